"""A transition numbers its notice and enqueues its rendering; the worker renders it after commit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from outbox_support import services_of
from sqlalchemy import func, select
from wf_support import MZ

from formflow.db.models import Application, Notice, NoticeCounter, OutboxMessage, StoredFile, utcnow
from formflow.documents.notices import RENDER_NOTICE
from formflow.documents.pdf import pdf_text
from formflow.outbox import admin as outbox_admin
from formflow.outbox.worker import Options, batches, load_handlers, run_batch
from formflow.usecases.serving import NoticePending, open_notice

TODAY = date(2026, 3, 2)


def _count(p, model) -> int:
    with p.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def _accept(flow):
    app_id = flow.create(MZ, today=TODAY)
    return app_id, flow.act(app_id, "community_acceptance", "accept", "mj-community", today=TODAY, mark=True)


def test_the_transition_renders_no_pdf_the_worker_does(ob_flow):
    load_handlers()
    p = ob_flow.p
    files_before = _count(p, StoredFile)
    app_id, t = _accept(ob_flow)
    [issued] = t.notices
    assert issued.sha256 is None  # the request's transaction stored no PDF
    assert _count(p, StoredFile) == files_before
    with p.sessions() as s:
        row = s.get(Notice, issued.id)
        assert row.status == "pending" and row.number == issued.number and row.seq == 1
        message = s.scalar(select(OutboxMessage).where(OutboxMessage.key == f"notice:{issued.id}"))
        assert (message.kind, message.status, message.application_id) == (RENDER_NOTICE, "pending", app_id)
        with pytest.raises(NoticePending) as refused:  # the download says "being generated", not a 500
            open_notice(services_of(p), s, ob_flow.account("mj-community"), issued.id)
        assert refused.value.status == 409 and refused.value.details["retry_after"] > 0

    reports = list(batches(p.sessions, services_of(p)))
    assert sum(r.delivered for r in reports) == 1
    assert _count(p, StoredFile) == files_before + 1
    with p.sessions() as s:
        row = s.get(Notice, issued.id)
        assert row.status == "ready" and row.sha256
        assert s.get(OutboxMessage, message.id).status == "done"
        served = open_notice(services_of(p), s, ob_flow.account("mj-community"), issued.id)
    text = pdf_text(b"".join(served.body))  # streamed from the storage
    assert row.title in text and row.number in text
    assert list(batches(p.sessions, services_of(p))) == []  # nothing left, nothing rendered twice
    assert _count(p, StoredFile) == files_before + 1


def test_a_rolled_back_transition_leaves_no_message_and_no_number(ob_flow):
    p = ob_flow.p
    app_id = ob_flow.create(MZ, today=TODAY)
    ob_flow.mark(app_id, "community_acceptance", "mj-community")
    from formflow.workflow import engine

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        with p.sessions.begin() as s:
            engine.perform(s, app_id, stage="community_acceptance", action="accept",
                           actor=ob_flow.account("mj-community"), note=None,
                           expected_version=s.get(Application, app_id).version,
                           calendar=ob_flow.calendar, today=TODAY, storage=p.storage,
                           renderers=ob_flow.renderers, keys=p.keys)
            assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1  # it was there…
            raise Abort
    assert _count(p, OutboxMessage) == 0 and _count(p, Notice) == 0  # … and went with the rollback
    with p.sessions() as s:
        assert s.scalar(select(func.max(NoticeCounter.last))) in (None, 0)
    # positive control: the same action committed has a message and number 1 (the rolled-back one came back)
    t = ob_flow.act(app_id, "community_acceptance", "accept", "mj-community", today=TODAY)
    assert t.notices[0].number.endswith("1号") and _count(p, OutboxMessage) == 1


def test_a_failing_render_is_retried_with_backoff_then_dead_and_an_admin_retry_delivers_it(sqlite_flow, tmp_path):
    load_handlers()
    p = sqlite_flow.p
    _app_id, t = _accept(sqlite_flow)
    broken = services_of(p, renderers=tmp_path / "no-templates")  # the notice's template cannot be found
    now = utcnow()
    options = Options(max_attempts=2, backoff_seconds=10)

    first = run_batch(p.sessions, broken, options, now=lambda: now)
    assert (first.claimed, first.retried, first.delivered) == (1, 1, 0)
    with p.sessions() as s:
        message = s.scalar(select(OutboxMessage))
        assert message.attempts == 1 and "TemplateNotFound" in message.last_error and message.status == "pending"
        assert [f.id for f in outbox_admin.failures(s)] == [message.id]
    assert run_batch(p.sessions, broken, options, now=lambda: now + timedelta(seconds=5)).claimed == 0  # backoff
    second = run_batch(p.sessions, broken, options, now=lambda: now + timedelta(seconds=11))
    assert second.dead == 1
    with p.sessions() as s:
        assert s.get(OutboxMessage, message.id).status == "dead"
        assert s.get(Notice, t.notices[0].id).status == "pending"  # nothing lost: numbered, waiting
        [row] = outbox_admin.counts(s)
        assert (row.kind, row.counts["dead"], row.due) == (RENDER_NOTICE, 1, 0)
    assert run_batch(p.sessions, services_of(p), options, now=lambda: now + timedelta(days=1)).claimed == 0

    with p.sessions.begin() as s:
        outbox_admin.retry(s, message.id)
    fixed = run_batch(p.sessions, services_of(p), options)
    assert fixed.delivered == 1
    with p.sessions() as s:
        assert s.get(Notice, t.notices[0].id).status == "ready"
        assert s.get(OutboxMessage, message.id).status == "done"
