"""An ordinary transition (a marked stage approved) talks to the database in a bounded number of statements.

Counted, not timed, like the submission's round trips (test_submit_round_trips.py): every statement
`engine.perform` sends, up to and including its flush, is caught by `before_cursor_execute`. The
application is driven along the Meizhou happy path to the civil-affairs review (a stage with a table,
no clock, no notice); its table is marked in its own transaction, as the desk does, and the approval is
counted. The packs' message kinds are installed as in a running server; what they write is counted apart
(this approval sends the applicant no message). The move is then checked to have done its work, so a count
of zero could not pass.
"""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import event, select

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tests" / "workflow") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "workflow"))

from wf_support import MZ, Flow, drive  # noqa: E402

from formflow.calendars.workdays import load_calendar  # noqa: E402
from formflow.db.models import Application, ApplicationStage, Event  # noqa: E402
from formflow.workflow import engine  # noqa: E402

DAY = date(2026, 3, 2)
#: the lock (SQLite: its no-op write first) reading the row with its live clocks, latest marking, whether the
#: pack has webhook subscriptions (none here: not read again) and the actor's roles; the application's update,
#: the event, the stage row.
MAX_STATEMENTS = {"sqlite": 5, "postgresql": 4}
NOTIFYING = ("messages", "outbox_messages", "accounts", "sms")
MAX_NOTIFYING = 4


def _touches(statement: str, tables: tuple[str, ...]) -> bool:
    return any(re.search(rf"\b(INTO|FROM|UPDATE)\s+{t}\b", statement, re.IGNORECASE) for t in tables)


def _approve_counting(flow: Flow, app_id: int, stage: str, username: str, day: date) -> list[str]:
    sent: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many):
        sent.append(statement)

    flow.mark(app_id, stage, username)
    with flow.p.sessions.begin() as session:
        actor = flow.account(username)  # the signed-in account is at hand in a request
        version = session.scalar(select(Application.version).where(Application.id == app_id))
        event.listen(flow.p.engine, "before_cursor_execute", count)
        try:
            engine.perform(session, app_id, stage=stage, action="approve", actor=actor, expected_version=version,
                           calendar=flow.calendar, today=day, storage=flow.p.storage, renderers=flow.renderers,
                           keys=flow.p.keys)
            session.flush()
        finally:
            event.remove(flow.p.engine, "before_cursor_execute", count)
    return sent


def test_an_approval_sends_a_bounded_number_of_statements(platform_db):
    from formflow.notifications import registry

    before = registry.packset() if registry.installed() else None
    registry.install(platform_db.packs)
    try:
        _check(platform_db)
    finally:
        registry.uninstall()
        if before is not None:
            registry.install(before)


def _check(p) -> None:
    flow = Flow(p, load_calendar(ROOT / "seeds" / "calendar"))
    warm = flow.create(MZ, today=DAY)  # caches warm, as in a running server
    day = drive(flow, warm, MZ, "civil_affairs_review", DAY)
    _approve_counting(flow, warm, "civil_affairs_review", "mj-civil-affairs", day)
    app_id = flow.create(MZ, today=DAY)
    day = drive(flow, app_id, MZ, "civil_affairs_review", DAY)
    every = _approve_counting(flow, app_id, "civil_affairs_review", "mj-civil-affairs", day)
    notifying = [s for s in every if _touches(s, NOTIFYING) and not _touches(s, ("applications", "events"))]
    sent = [s for s in every if s not in notifying]
    bound = MAX_STATEMENTS[p.dialect]
    assert 0 < len(sent) <= bound, f"{len(sent)} statements:\n" + "\n---\n".join(sent)
    assert len(notifying) <= MAX_NOTIFYING, "\n---\n".join(notifying)
    with p.sessions() as session:
        app = session.get(Application, app_id)
        assert app.stages == ["housing_review"] and app.status == "active"
        last = session.scalars(select(Event).where(Event.application_id == app_id).order_by(Event.id.desc())).first()
        assert (last.action, last.from_stage, last.to_stage) == ("approve", "civil_affairs_review", "housing_review")
        rows = session.scalars(select(ApplicationStage.stage).where(ApplicationStage.application_id == app_id))
        assert list(rows) == ["housing_review"]
