"""Running as a service: /readyz, Prometheus /metrics, JSON logs that carry the request id."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest

from formflow.db.models import OutboxMessage, utcnow
from formflow.files.storage import LocalStorage
from formflow.ops import logs
from support import make_web_app


@pytest.fixture
def app(sqlite_platform):
    return make_web_app(sqlite_platform)


def test_ready_when_database_storage_and_worker_answer(app):
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok", "worker": "ok"}}


def test_not_ready_when_the_storage_cannot_take_a_file(app, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    app.extensions["formflow.services"].storage = LocalStorage(blocker)
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["checks"]["database"] == "ok" and body["checks"]["storage"] != "ok"
    assert "文件存储" in body["checks"]["storage"]


def test_not_ready_when_the_outbox_is_minutes_behind(app, sqlite_platform):
    with sqlite_platform.sessions.begin() as s:
        s.add(OutboxMessage(kind="sms", key="late-1", payload={}, status="pending", attempts=0,
                            available_at=utcnow() - timedelta(minutes=10)))
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503 and "worker" in answer.get_json()["checks"]
    assert "是否有 worker 在运行" in answer.get_json()["checks"]["worker"]
    metrics = app.test_client().get("/metrics").get_data(as_text=True)
    lag = next(line for line in metrics.splitlines() if line.startswith("formflow_outbox_lag_seconds "))
    assert float(lag.split()[1]) >= 590
    assert 'formflow_outbox_messages{kind="sms",status="pending"} 1.0' in metrics


def test_metrics_for_this_machine_or_the_token_only(app, monkeypatch):
    client = app.test_client()
    client.get("/healthz")
    local = client.get("/metrics")
    assert local.status_code == 200 and local.content_type.startswith("text/plain")
    text = local.get_data(as_text=True)
    assert 'formflow_request_seconds_count{endpoint="public.health",method="GET",status="200"}' in text
    assert "formflow_queue_depth" in text and "formflow_worker_failures" in text
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert outside.status_code == 404
    monkeypatch.setenv("FORMFLOW_METRICS_TOKEN", "s3cret-token")
    assert client.get("/metrics").status_code == 404  # with a token set, this machine needs it too
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"},
                      headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


def test_every_response_and_log_line_carries_the_request_id(app):
    seen = io.StringIO()
    logs.configure("json")
    handler = next(h for h in logging.getLogger().handlers if getattr(h, logs._CONFIGURED, False))
    old = handler.setStream(seen)
    try:
        @app.get("/_test/log")
        def _log():
            logging.getLogger("formflow.test").warning("something happened")
            return "ok"

        client = app.test_client()
        given = client.get("/_test/log", headers={"X-Request-Id": "lb-1234abcd"})
        assert given.headers["X-Request-Id"] == "lb-1234abcd"
        made = client.get("/_test/log", headers={"X-Request-Id": "<script>"})
        assert made.headers["X-Request-Id"] != "<script>" and len(made.headers["X-Request-Id"]) == 32
    finally:
        handler.setStream(old)
        logging.getLogger().removeHandler(handler)
        setattr(logging.getLogger(), logs._CONFIGURED, None)
    lines = [json.loads(line) for line in seen.getvalue().splitlines() if "something happened" in line]
    assert [line["request_id"] for line in lines] == ["lb-1234abcd", made.headers["X-Request-Id"]]
    assert lines[0]["level"] == "WARNING" and lines[0]["logger"] == "formflow.test" and lines[0]["path"] == "/_test/log"
