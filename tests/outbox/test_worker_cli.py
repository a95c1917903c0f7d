"""`formflow worker --once`, `formflow outbox status|retry`, the embedded worker woken by a commit, settings."""

from __future__ import annotations

import time
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from wf_support import MZ

from formflow.cli import main
from formflow.config import Settings
from formflow.db.models import Notice, OutboxMessage
from support import TEST_KEYS, make_web_app

TODAY = date(2026, 3, 2)


def _env(p) -> dict[str, str]:
    return {"FORMFLOW_DATABASE_URL": p.url, "FORMFLOW_INSTANCE": str(p.instance), "FORMFLOW_DATA_KEYS": TEST_KEYS,
            "FORMFLOW_CONFIG_ROOT": str(p.root)}


def test_worker_once_renders_the_pending_notice_and_prints_a_summary(sqlite_flow):
    p = sqlite_flow.p
    app_id = sqlite_flow.create(MZ, today=TODAY)
    t = sqlite_flow.act(app_id, "community_acceptance", "accept", "mj-community", today=TODAY, mark=True)
    result = CliRunner().invoke(main, ["worker", "--once"], env=_env(p))
    assert result.exit_code == 0, result.output
    assert "delivered 1" in result.output or "已投递 1" in result.output
    with p.sessions() as s:
        assert s.get(Notice, t.notices[0].id).status == "ready"
    again = CliRunner().invoke(main, ["worker", "--once"], env=_env(p))
    assert again.exit_code == 0 and again.output.strip() == ""  # nothing was due


def test_outbox_status_and_retry(sqlite_flow):
    p = sqlite_flow.p
    app_id = sqlite_flow.create(MZ, today=TODAY)
    sqlite_flow.act(app_id, "community_acceptance", "accept", "mj-community", today=TODAY, mark=True)
    with p.sessions.begin() as s:
        s.execute(update(OutboxMessage).values(status="dead", attempts=8, last_error="OSError: disk gone"))
        message_id = s.scalar(select(OutboxMessage.id))
    status = CliRunner().invoke(main, ["outbox", "status"], env=_env(p))
    assert status.exit_code == 0, status.output
    assert "render_notice" in status.output and "disk gone" in status.output
    retried = CliRunner().invoke(main, ["outbox", "retry", str(message_id)], env=_env(p))
    assert retried.exit_code == 0, retried.output
    with p.sessions() as s:
        assert s.get(OutboxMessage, message_id).status == "pending"
    refused = CliRunner().invoke(main, ["outbox", "retry", str(message_id)], env=_env(p))
    assert refused.exit_code != 0  # pending without a failure: nothing to retry
    assert CliRunner().invoke(main, ["outbox", "retry", "999999"], env=_env(p)).exit_code != 0


def test_the_embedded_worker_is_woken_by_the_commit_that_enqueued(sqlite_flow, monkeypatch):
    from formflow.outbox.embedded import start

    p = sqlite_flow.p
    app = make_web_app(p)
    services = app.extensions["formflow.services"]
    services.settings.worker_poll_seconds = 3600.0  # only a wake-up can make it look before the test ends
    worker = start(services)
    assert worker is not None
    try:
        time.sleep(0.2)  # let it finish its first (empty) look and wait
        app_id = sqlite_flow.create(MZ, today=TODAY)
        t = sqlite_flow.act(app_id, "community_acceptance", "accept", "mj-community", today=TODAY, mark=True)
        for _ in range(300):
            with p.sessions() as s:
                if s.get(Notice, t.notices[0].id).status == "ready":
                    break
            time.sleep(0.1)
        with p.sessions() as s:
            assert s.get(Notice, t.notices[0].id).status == "ready"
    finally:
        worker.stop()
        worker.join(30)
    monkeypatch.setenv("FORMFLOW_EMBEDDED_WORKER", "0")
    assert start(make_web_app(p).extensions["formflow.services"]) is None  # turned off by the setting


def test_worker_settings_are_read_and_checked(monkeypatch):
    monkeypatch.setenv("FORMFLOW_WORKER_BATCH", "7")
    monkeypatch.setenv("FORMFLOW_OUTBOX_MAX_ATTEMPTS", "3")
    settings = Settings()
    assert (settings.worker_batch, settings.outbox_max_attempts, settings.embedded_worker) == (7, 3, True)
    monkeypatch.setenv("FORMFLOW_WORKER_LEASE", "0")
    with pytest.raises(ValueError, match="FORMFLOW_WORKER_LEASE"):
        Settings()


def test_on_a_terminal_the_worker_shows_progress_then_one_total_line(sqlite_flow, capsys):
    from outbox_support import services_of

    from formflow.cli.worker import _drain
    from formflow.outbox.worker import Options, load_handlers

    load_handlers()
    p = sqlite_flow.p
    app_id = sqlite_flow.create(MZ, today=TODAY)
    sqlite_flow.act(app_id, "community_acceptance", "accept", "mj-community", today=TODAY, mark=True)
    assert _drain(services_of(p), Options(), tty=True) == 1
    assert "1" in capsys.readouterr().out
    assert _drain(services_of(p), Options(), tty=True) == 0  # nothing due: no bar, no line
