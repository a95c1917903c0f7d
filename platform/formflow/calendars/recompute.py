"""When the holiday data changes, every running clock's due date is counted again.

A clock in working days keeps the working days it has to run (its days plus
any pause it made up for), counted under the calendar it was set with; under
the new calendar the same count from the same start gives the new due date.
Calendar-day clocks never move. Each application whose date moves gets a
history event (`deadline_recomputed`, with old and new dates per clock) in the
same transaction, and its deadline and overdue flag are projected again, so
the citizen and the reviewer see the new date at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.calendars.workdays import WorkCalendar
from formflow.db.models import Application, Event, StageClock
from formflow.packs.versions import load_pinned
from formflow.workflow import clocks
from formflow.workflow.spec import spec_for

RECOMPUTED = "deadline_recomputed"

Calendars = Callable[[str], WorkCalendar]


@dataclass
class RecomputeReport:
    """What a recount changed: application id → {clock name: (old due, new due)}."""

    checked: int = 0
    moved: dict[int, dict[str, tuple[date, date]]] = field(default_factory=dict)


def _live_working_clocks(session: Session) -> list[tuple[StageClock, str]]:
    rows = session.execute(
        select(StageClock, Application.pack)
        .join(Application, Application.id == StageClock.application_id)
        .where(StageClock.stopped_on.is_(None), StageClock.due_on.is_not(None), StageClock.unit == "working")
        .order_by(StageClock.application_id, StageClock.id)
    )
    return [(clock, pack) for clock, pack in rows]


def recompute_deadlines(session: Session, *, before: Calendars, after: Calendars, today: date,
                        reason: str, progress: Callable[[int, int], None] | None = None) -> RecomputeReport:
    """Count every live working-day clock again under `after`; runs in the caller's transaction.

    `progress(done, more)` as `cli.progress` takes it: the total once, then one step a clock."""
    report = RecomputeReport()
    live = _live_working_clocks(session)
    for done, (clock, pack) in enumerate(live, start=1):
        report.checked += 1
        old_due = clock.due_on
        assert old_due is not None  # selected with a due date
        to_run = before(pack).working_days_between(clock.started_on, old_due)
        new_due = after(pack).add_days(clock.started_on, max(0, to_run), "working")
        if new_due != old_due:
            clock.due_on = new_due
            report.moved.setdefault(clock.application_id, {})[clock.name] = (old_due, new_due)
        if progress is not None:
            progress(1, len(live) if done == 1 else 0)
    for app_id, moved in report.moved.items():
        app = session.get(Application, app_id)
        if app is None:
            continue
        pinned = load_pinned(session, app.versions)
        spec = spec_for(app.versions["workflow"], pinned.workflow)
        clocks.project(app, clocks.live(session, app_id), spec, today)
        session.add(Event(
            application_id=app_id, action=RECOMPUTED, from_stage=None, to_stage=None,
            note=None, details={"reason": reason, "clocks": {
                name: {"from": a.isoformat(), "to": b.isoformat()} for name, (a, b) in moved.items()}},
        ))
    session.flush()
    return report
