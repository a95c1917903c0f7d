"""Retention: at least six months is promised, and the database refuses to delete the records."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from formflow.config import Settings


def test_less_than_six_months_is_refused(monkeypatch):
    monkeypatch.setenv("FORMFLOW_RETENTION_MONTHS", "3")
    with pytest.raises(ValueError, match="至少保存 6 个月"):
        Settings()
    monkeypatch.setenv("FORMFLOW_RETENTION_MONTHS", "24")
    assert Settings().retention_months == 24


def test_access_records_cannot_be_deleted(platform_db):
    from formflow.db.models import Account, Application
    from formflow.personal.access_log import record_access

    with platform_db.sessions.begin() as s:
        reviewer = s.query(Account).first()
        app = Application(pack="p", matter="m", applicant_id=reviewer.id, data={}, versions={})
        s.add(app)
        s.flush()
        record_access(s, reviewer, app.id, "full_id_number")
    with pytest.raises(DBAPIError, match="append-only"):
        with platform_db.engine.begin() as conn:
            conn.execute(text("DELETE FROM access_records"))


def test_retention_command_reports(sqlite_platform):
    env = dict(os.environ, FORMFLOW_DATABASE_URL=sqlite_platform.url)
    out = subprocess.run([sys.executable, "-m", "formflow.cli", "retention"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "至少 6 个月" in out.stdout and "办理记录" in out.stdout and "查阅记录" in out.stdout
