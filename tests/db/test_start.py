"""The two-command start: `formflow load` builds the embedded database; the app serves it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_load_creates_database_and_prints_demo_accounts(tmp_path):
    env = dict(os.environ, FORMFLOW_INSTANCE=str(tmp_path / "instance"))
    env.pop("FORMFLOW_DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-m", "formflow.cli", "load"], capture_output=True, text=True,
                         env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "instance" / "formflow.sqlite3").exists()
    assert "已载入 3 个地区配置包" in out.stdout
    for line in ("mj-citizen-chen", "window_clerk（", "community_clerk（", "jx-"):
        assert line in out.stdout
    again = subprocess.run([sys.executable, "-m", "formflow.cli", "load"], capture_output=True, text=True,
                           env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr


def test_home_page_lists_both_localities(web):
    page = web.get("/").get_data(as_text=True)
    assert "梅州市梅江区" in page and "江西省" in page
    assert web.get("/healthz").get_json()["status"] == "ok"
