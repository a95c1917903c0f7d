"""Stage clocks and the commitment clock: start, stop, pause, resume, project.

A clock is a `StageClock` row named after its stage (or `COMMITMENT`).
Running: `running` true. Paused (waiting for the citizen): not running,
`paused_on` set. Stopped: `stopped_on` set. The application's `deadline` is
the earliest due date of its running clocks; it is `overdue` when a running
time limit (not a timer's duration) is past due.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from formflow.calendars.workdays import WorkCalendar
from formflow.db.models import Application, StageClock
from formflow.workflow.spec import Period, WorkflowSpec

#: Name of the overall commitment clock (stage ids cannot start with '*').
COMMITMENT = "*commitment"
#: Prefix of the clock of one objection's review (`*objection:<objection id>`).
OBJECTION_PREFIX = "*objection:"


def objection_clock(objection_id: int) -> str:
    """The name of the clock of reviewing objection `objection_id`."""
    return f"{OBJECTION_PREFIX}{objection_id}"


def objection_id(name: str) -> int | None:
    """The objection a clock name belongs to, or None for a stage or commitment clock."""
    if not name.startswith(OBJECTION_PREFIX) or not name[len(OBJECTION_PREFIX):].isdigit():
        return None
    return int(name[len(OBJECTION_PREFIX):])


def start(
    session: Session, app: Application, name: str, period: Period, today: date, calendar: WorkCalendar
) -> StageClock:
    clock = StageClock(
        application_id=app.id,
        name=name,
        started_on=today,
        due_on=calendar.add_days(today, period.days, period.unit),
        unit=period.unit,
        days=period.days,
        running=True,
    )
    session.add(clock)
    return clock


def live(session: Session, app_id: int) -> list[StageClock]:
    """Clocks not stopped (running or paused), oldest first."""
    return list(session.scalars(_LIVE, {"app_id": app_id}))


_LIVE = (
    select(StageClock)
    .where(StageClock.application_id == bindparam("app_id"), StageClock.stopped_on.is_(None))
    .order_by(StageClock.id)
)


def exists(session: Session, app_id: int, name: str) -> bool:
    return session.scalar(
        select(StageClock.id).where(StageClock.application_id == app_id, StageClock.name == name).limit(1)
    ) is not None


def stop(clocks: Iterable[StageClock], today: date, names: Iterable[str] | None = None) -> None:
    """Stop the given clocks (those named, or all)."""
    wanted = None if names is None else set(names)
    for clock in clocks:
        if clock.stopped_on is None and (wanted is None or clock.name in wanted):
            clock.running = False
            clock.stopped_on = today


def pause(clocks: Iterable[StageClock], today: date) -> list[str]:
    """Pause every running clock; returns their names."""
    paused = []
    for clock in clocks:
        if clock.running:
            clock.running = False
            clock.paused_on = today
            paused.append(clock.name)
    return paused


def resume(clocks: Iterable[StageClock], today: date, calendar: WorkCalendar) -> dict[str, int]:
    """Resume paused clocks; each due date moves by the days it was paused (in its unit)."""
    shifts: dict[str, int] = {}
    for clock in clocks:
        if clock.stopped_on is not None or clock.paused_on is None:
            continue
        if clock.unit == "working":
            days = max(0, calendar.working_days_between(clock.paused_on, today))
        else:
            days = max(0, (today - clock.paused_on).days)
        if clock.due_on is not None:
            clock.due_on = calendar.add_days(clock.due_on, days, clock.unit)
        clock.running = True
        clock.paused_on = None
        shifts[clock.name] = days
    return shifts


def late(clocks: Iterable[StageClock], spec: WorkflowSpec, today: date) -> list[str]:
    """Names of running time limits past due (timer durations are never late)."""
    out = []
    for clock in clocks:
        stage = spec.stages.get(clock.name)
        timer = stage is not None and stage.is_timer
        if clock.running and not timer and clock.due_on is not None and clock.due_on < today:
            out.append(clock.name)
    return out


def project(app: Application, clocks: Iterable[StageClock], spec: WorkflowSpec, today: date) -> None:
    """Set the application's `deadline` and `overdue` from its clocks."""
    clocks = list(clocks)
    due = [c.due_on for c in clocks if c.running and c.due_on is not None]
    deadline = min(due) if due else None
    overdue = bool(late(clocks, spec, today))
    if app.deadline != deadline:
        app.deadline = deadline
    if app.overdue != overdue:
        app.overdue = overdue
