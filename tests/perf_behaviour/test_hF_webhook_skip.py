"""The engine's lock says whether the pack has webhook subscriptions; without any, its event skips the look-up.

Same messages as reading the subscriptions every time: none while the pack has no active subscription (or
only another pack's, or a disabled one), one per matching subscription as soon as one is added — in another
transaction or earlier in the same one — and what the lock noted never outlives its transaction.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from sqlalchemy import event, select

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tests" / "workflow") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "workflow"))

from wf_support import MZ, Flow, drive  # noqa: E402

from formflow.calendars.workdays import load_calendar  # noqa: E402
from formflow.db.models import Application, Event, OutboxMessage  # noqa: E402
from formflow.webhooks import subscriptions as subs  # noqa: E402
from formflow.webhooks.listener import none_active  # noqa: E402
from formflow.workflow import engine  # noqa: E402

DAY = date(2026, 3, 2)
URL = "https://partner.example/hook"
CHAIN = [("civil_affairs_review", "mj-civil-affairs"), ("housing_review", "mj-housing"),
         ("centre_review", "mj-centre"), ("section_approval", "mj-section")]


def _webhooks(p) -> list[OutboxMessage]:
    with p.sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "webhook")
                                    .order_by(OutboxMessage.id)))


def _subscribe(p, pack: str = MZ, kinds: str = "*") -> int:
    with p.sessions.begin() as session:
        return subs.add(session, pack=pack, known_packs=list(p.packs.packs), url=URL, kinds=kinds).subscription.id


def _approve(flow: Flow, app_id: int, stage: str, username: str, day: date) -> list[str]:
    """Mark and approve `stage`; the statements of `engine.perform` that read the subscriptions."""
    sent: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if "webhook_subscriptions" in statement:
            sent.append(statement)

    flow.mark(app_id, stage, username)
    with flow.p.sessions.begin() as session:
        version = session.scalar(select(Application.version).where(Application.id == app_id))
        event.listen(flow.p.engine, "before_cursor_execute", count)
        try:
            engine.perform(session, app_id, stage=stage, action="approve", actor=flow.account(username),
                           expected_version=version, calendar=flow.calendar, today=day, storage=flow.p.storage,
                           renderers=flow.renderers, keys=flow.p.keys)
            session.flush()
        finally:
            event.remove(flow.p.engine, "before_cursor_execute", count)
    return sent


def test_approvals_enqueue_the_same_webhooks_as_reading_the_subscriptions(platform_db):
    p = platform_db
    flow = Flow(p, load_calendar(ROOT / "seeds" / "calendar"))
    app_id = flow.create(MZ, today=DAY)
    day = drive(flow, app_id, MZ, CHAIN[0][0], DAY)
    before = len(_webhooks(p))

    stage, who = CHAIN[0]  # no subscription at all: only the lock asks
    assert len(_approve(flow, app_id, stage, who, day)) == 1
    assert len(_webhooks(p)) == before

    other = next(pack for pack in p.packs.packs if pack != MZ)
    _subscribe(p, other)  # another pack's
    disabled = _subscribe(p)
    with p.sessions.begin() as session:
        subs.set_active(session, disabled, False)
    stage, who = CHAIN[1]
    assert len(_approve(flow, app_id, stage, who, day)) == 1
    assert len(_webhooks(p)) == before

    wanted = _subscribe(p, kinds="approve")  # added in another transaction: seen at once
    stage, who = CHAIN[2]
    assert len(_approve(flow, app_id, stage, who, day)) == 2
    made = _webhooks(p)[before:]
    assert [(m.payload["subscription_id"], m.payload["body"]["event"]) for m in made] == [(wanted, "approve")]

    with p.sessions.begin() as session:
        subs.set_active(session, wanted, False)  # disabled again: skipped again
    stage, who = CHAIN[3]
    assert len(_approve(flow, app_id, stage, who, day)) == 1
    assert len(_webhooks(p)) == before + 1


def _app_event(session, app_id: int) -> None:
    session.add(Event(application_id=app_id, action="approve", from_stage="a", to_stage="b", details={}))
    session.flush()


def test_a_subscription_written_later_in_the_transaction_or_a_later_transaction_is_seen(platform_db):
    p = platform_db
    flow = Flow(p, load_calendar(ROOT / "seeds" / "calendar"))
    app_id = flow.create(MZ, today=DAY)
    before = len(_webhooks(p))

    with p.sessions.begin() as session:  # noted none, then a subscription added in the same transaction
        none_active(session, MZ)
        _app_event(session, app_id)
        assert len(_webhooks(p)) == before  # (not committed yet either way)
        subs.add(session, pack=MZ, known_packs=list(p.packs.packs), url=URL, kinds="*")
        _app_event(session, app_id)
    assert len(_webhooks(p)) == before + 1

    session = p.sessions()
    try:
        with session.begin():
            none_active(session, MZ)
        _subscribe(p)  # by another session, after that transaction ended
        with session.begin():
            _app_event(session, app_id)
    finally:
        session.close()
    assert len(_webhooks(p)) == before + 3  # both active subscriptions
