"""`tick`: expire due timer stages and mark overdue applications.

Safe to run on every node at once: each application is handled in its own
transaction, locked with `FOR UPDATE SKIP LOCKED` on PostgreSQL (a row
another node holds is skipped, not waited for), and re-checked under the
lock, so each due timer moves its application exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from formflow.calendars.workdays import WorkCalendar
from formflow.db.models import Application, Event, StageClock
from formflow.documents.notices import issue_notice
from formflow.workflow import clocks
from formflow.workflow.access import office_name
from formflow.workflow.engine import open_objections
from formflow.workflow.moves import ACTIVE, CLOSED, Move, lock

EXPIRE = "expire"
OVERDUE = "overdue"

Calendars = WorkCalendar | Callable[[str], WorkCalendar]


@dataclass
class TickReport:
    """What one `tick` did, by application id."""

    expired: list[int] = field(default_factory=list)
    blocked: list[int] = field(default_factory=list)
    overdue: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def _calendar(calendars: Calendars, pack: str) -> WorkCalendar:
    return calendars if isinstance(calendars, WorkCalendar) else calendars(pack)


def _expiry_notice(session: Session, app: Application, notice_id: str, level: str | None, today: date,
                   event: Event) -> None:
    """Number the notice a timer stage issues when it moves on by itself; rendered by the outbox after commit.

    The issuing office is the stage owner's office on the application's path (nobody acts: it is the tick).
    """
    issue_notice(session, app, notice_id, today=today, event_id=event.id, context={
        "office_name": office_name(session, app, level) or office_name(session, app),
        "reason": "", "deadline": app.deadline, "missing": [],
    })


def due_applications(session: Session, today: date, limit: int | None = None) -> list[int]:
    """Active applications with a running clock past its due date."""
    query = (
        select(StageClock.application_id)
        .join(Application, Application.id == StageClock.application_id)
        .where(StageClock.running.is_(True), StageClock.due_on < today, Application.status == ACTIVE)
        .distinct()
        .order_by(StageClock.application_id)
    )
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def tick(
    session_factory: sessionmaker[Session],
    *,
    today: date,
    calendar: Calendars,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TickReport:
    """Move due timer stages on (no open objection) and mark overdue applications.

    `progress(done, more)`, when given, hears how many applications are due and each one finished.
    """
    report = TickReport()
    with session_factory() as session:
        candidates = due_applications(session, today, limit)
    if progress:
        progress(0, len(candidates))
    for app_id in candidates:
        if progress and app_id != candidates[0]:
            progress(1, 0)
        session = session_factory()
        try:
            with session.begin():
                app = lock(session, app_id, skip_locked=True)
                if app is None:
                    report.skipped.append(app_id)
                    continue
                if app.status == ACTIVE:
                    _tick_one(session, app, today, _calendar(calendar, app.pack), report)
        except Exception as exc:  # noqa: BLE001 - one broken application must not stop the rest
            report.failed[app_id] = f"{type(exc).__name__}: {exc}"
        finally:
            session.close()
    if progress and candidates:
        progress(1, 0)
    return report


def _tick_one(session: Session, app: Application, today: date, calendar: WorkCalendar,
              report: TickReport) -> None:
    with session.no_autoflush:
        move = Move.of(session, app, today, calendar)
        due = {c.name: c for c in move.clocks if c.running and c.due_on is not None and c.due_on < today}
        for stage_id in list(app.stages or []):
            stage = move.spec.stages.get(stage_id)
            if stage is None or not stage.is_timer or stage_id not in due or app.status == CLOSED:
                continue
            if stage.objections and open_objections(session, app.id, stage_id):
                report.blocked.append(app.id)
                continue
            target = stage.on_expiry
            if target is None:
                continue
            move.go(stage_id, (target,))
            details: dict[str, Any] = {"due_on": cast(date, due[stage_id].due_on).isoformat(),  # dated clocks
                                       "stages": list(app.stages)}
            if stage.expiry_notice:
                details["notices"] = [stage.expiry_notice]
            event = move.finish(Event(
                actor_id=None, actor_role=None, action=EXPIRE, from_stage=stage_id, to_stage=target,
                details=details,
            ))
            if stage.expiry_notice:
                _expiry_notice(session, app, stage.expiry_notice, stage.owner.level if stage.owner else None,
                               today, event)
            report.expired.append(app.id)
        late = clocks.late(move.clocks, move.spec, today)
        if late and not app.overdue and app.status == ACTIVE:
            move.finish(Event(
                actor_id=None, actor_role=None, action=OVERDUE, from_stage=app.stage,
                to_stage=app.stage, details={"clocks": late},
            ))
            report.overdue.append(app.id)
