"""The benchmark script runs end to end at a tiny size (SQLite only) and prints every figure.

Only that it works and reports: never a timing threshold.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_runs_at_a_tiny_size(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--max-minutes", "12",
         "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    assert "filling: 200 / 200 applications" in out
    for figure in (r"\(a\) bare insert +[\d,.]+ rows/s", r"\(b\) submissions +[\d,.]+ submissions/s",
                   r"\(c\) bare select +[\d,.]+ selects/s", r"\(d\) queue pages +[\d,.]+ queue pages/s",
                   r"submit/insert = [\d.]+", r"queue/select = [\d.]+"):
        assert re.search(figure, out), figure
    assert "EXPLAIN (sqlite) — queue_page, first page" in out
    assert "EXPLAIN (sqlite) — bare indexed select" in out
    assert re.search(r"=> index: \S+; full scan of applications: (YES|no)", out)
    assert "10 transitions (8 through engine.perform)" in out
    flow = re.findall(r"^\s+(\d+)\s+(\S.*?)\s+(applications\.submit|engine\.perform|tick \(one application\))", out,
                      re.M)
    assert [int(n) for n, _what, _via in flow] == list(range(1, 11))
    assert flow[-1][1] == "leader_approval.approve"
    assert "SUMMARY" in out and "wall time per phase" in out
    assert not list(tmp_path.glob("formflow-bench-*")), "the benchmark database was not removed"
    goals = json.loads(out.strip().splitlines()[-1])  # the last line: the goals' JSON
    found = {**goals["ratios"], **goals["figures"]}
    for key in ("submit_per_insert_sqlite", "submit_per_insert_postgresql", "queue_per_select_sqlite",
                "queue_per_select_postgresql", "validate_per_rs", "pdf_ms", "transition_ms", "form700_render_ms",
                "form700_validate_ms", "lottery_100k_1000_s", "rss_peak_mib", "api_journey_per_healthz",
                "pack_load_s"):
        assert key in found, key
    # measured in this run (PostgreSQL is not in --quick; the form figures come from bench/forms_bench.py)
    for key in ("submit_per_insert_sqlite", "queue_per_select_sqlite", "pdf_ms", "transition_ms",
                "lottery_100k_1000_s", "rss_peak_mib", "api_journey_per_healthz", "pack_load_s"):
        assert isinstance(found[key], float) and found[key] > 0, (key, found[key])
    assert found["submit_per_insert_postgresql"] is None  # positive control: what was not run is null
