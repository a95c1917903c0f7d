"""Moving an application between stages: enter, leave, fork, join, close.

A `Move` gathers every change of one transition in memory (stages, clocks,
projection) so the application row is flushed once and its version bumped
once. It reads the workflow only from the application's pinned versions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from formflow.calendars.workdays import WorkCalendar, load_calendar
from formflow.db.models import NO_DEADLINE, Application, ApplicationStage, Event, StageClock, utcnow
from formflow.packs.versions import load_pinned
from formflow.workflow import clocks
from formflow.workflow.errors import CurrentState, StaleApplication, UnknownApplication
from formflow.workflow.spec import Period, WorkflowSpec, spec_for

ACTIVE, CLOSED = "active", "closed"
#: `Application.awaiting` while a correction request is open.
AWAITING_CITIZEN = "citizen"


@cache
def default_calendar() -> WorkCalendar:
    """The national calendar of the configuration root (when a caller gives none)."""
    from formflow.config import Settings

    return load_calendar(Settings().config_root / "seeds" / "calendar")


def workflow_of(session: Session, app: Application) -> WorkflowSpec:
    """The workflow the application pinned (never the current file)."""
    pinned = load_pinned(session, app.versions)
    return spec_for(app.versions["workflow"], pinned.workflow)


def lock(session: Session, app_id: int, *, skip_locked: bool = False) -> Application | None:
    """Load the application with a row lock (FOR UPDATE on PostgreSQL).

    SQLite has no row locks: a no-op UPDATE first takes the database's write
    lock, so concurrent writers queue there and then read the current row.
    """
    if session.get_bind().dialect.name == "sqlite":
        table = Application.__table__
        # a no-op write that leaves the primary key alone (assigning it makes SQLite check every child table)
        session.execute(table.update().where(table.c.id == app_id).values(version=table.c.version))
    query = (
        select(Application)
        .where(Application.id == app_id)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).one_or_none()


def sync_stage_rows(session: Session, app: Application, *, fresh: bool = False) -> None:
    """Make the queue projection (`application_stages`) list exactly the application's current stages.

    Each row also carries what the queue sorts by (the application's overdue
    flag and deadline): new rows get them here, so call it after the clocks are
    projected onto the application (the engine's moves and the timers both do,
    in `Move.finish`); later changes reach existing rows by the database trigger
    of migration 0012, whoever updates the application.
    `fresh`: the application has no rows yet (it is entering the workflow), nothing is read.
    """
    current = set(app.stages or []) if app.status == ACTIVE else set()
    existing = {} if fresh else {row.stage: row for row in session.scalars(
        select(ApplicationStage).where(ApplicationStage.application_id == app.id))}
    overdue, due = bool(app.overdue), app.deadline or NO_DEADLINE
    for stage in existing.keys() - current:
        session.delete(existing[stage])
    for stage in sorted(current - existing.keys()):
        session.add(ApplicationStage(application_id=app.id, stage=stage, pack=app.pack, office_path=app.office_path,
                                     overdue=overdue, due=due))


def lock_or_fail(session: Session, app_id: int) -> Application:
    app = lock(session, app_id)
    if app is None:
        raise UnknownApplication(app_id)
    return app


def current_state(app: Application, spec: WorkflowSpec | None = None) -> CurrentState:
    stages = tuple(app.stages or ())
    titles = tuple(spec.stages[s].title if spec and s in spec.stages else s for s in stages)
    return CurrentState(app.id, app.version, app.status, stages, titles, app.result)


def check_version(app: Application, expected: int, spec: WorkflowSpec | None = None) -> None:
    if app.version != expected:
        raise StaleApplication(current_state(app, spec), expected)


def fork_joins(spec: WorkflowSpec, targets: tuple[str, ...]) -> set[str]:
    """The join stages that wait for branches started by a fork into `targets`.

    Walks forward from the fork's targets (actions and timer expiries) and
    stops at join stages and end stages; a join belongs to the fork when one of
    the stages it waits for was reached on the way.
    """
    reached: set[str] = set()
    joins: set[str] = set()
    todo = [t for t in targets if t in spec.stages]
    while todo:
        sid = todo.pop()
        if sid in reached:
            continue
        stage = spec.stages[sid]
        if stage.join and sid not in targets:
            joins.add(sid)
            continue
        if stage.is_end:
            continue
        reached.add(sid)
        nexts = [t for a in stage.actions.values() for t in a.targets]
        if stage.is_timer and stage.on_expiry:
            nexts.append(stage.on_expiry)
        if stage.is_lottery:
            nexts.extend(t for t in (stage.on_win, stage.on_lose) if t)
        todo.extend(t for t in nexts if t in spec.stages and t not in reached)
    return {j for j in joins if reached & set(spec.stages[j].join)}


@dataclass
class Move:
    """One transition of one application, applied in memory, flushed once."""

    session: Session
    app: Application
    spec: WorkflowSpec
    today: date
    calendar: WorkCalendar
    clocks: list[StageClock] = field(default_factory=list)
    entered: list[str] = field(default_factory=list)
    #: the application is entering the workflow: it has no clocks or stage rows to read
    fresh: bool = False
    #: clocks started by this move whose days came from a parameter: name → days, unit, parameter
    from_params: dict[str, dict[str, object]] = field(default_factory=dict)

    @classmethod
    def of(cls, session: Session, app: Application, today: date, calendar: WorkCalendar, *,
           fresh: bool = False) -> Move:
        spec = workflow_of(session, app)
        return cls(session, app, spec, today, calendar, [] if fresh else clocks.live(session, app.id), fresh=fresh)

    # -- stages ------------------------------------------------------------
    def leave(self, stage_id: str) -> None:
        """Leave a current stage and stop its clock."""
        clocks.stop(self.clocks, self.today, [stage_id])
        self.app.stages = [s for s in self.app.stages or [] if s != stage_id]

    def enter(self, stage_id: str, source: str | None = None) -> None:
        """Enter a stage: end stages close, join stages wait for all their branches."""
        stage = self.spec.stage(stage_id)
        if stage.is_end:
            self.close(stage_id)
            return
        if stage.join and source in stage.join:
            arrived = dict(self.app.arrived or {})
            branches = [*arrived.get(stage_id, []), source]
            if set(stage.join) - set(branches):
                arrived[stage_id] = branches
                self.app.arrived = arrived
                return
            arrived.pop(stage_id, None)
            self.app.arrived = arrived
        if stage_id not in (self.app.stages or []):
            self.app.stages = [*(self.app.stages or []), stage_id]
        period = stage.clock
        if period is not None:
            self.start_clock(stage_id, period)
        self.entered.append(stage_id)

    def start_clock(self, name: str, period: Period) -> StageClock:
        """Start clock `name`; days named by a parameter are read from the pinned parameters now."""
        if period.param is not None:
            period = period.resolve(load_pinned(self.session, self.app.versions).documents.get("parameters") or {})
            self.from_params[name] = {"days": period.days, "unit": period.unit, "param": period.param}
        clock = clocks.start(self.session, self.app, name, period, self.today, self.calendar)
        self.clocks.append(clock)
        return clock

    def go(self, source: str, targets: tuple[str, ...]) -> None:
        """Leave `source` for `targets` (several: parallel branches).

        A fork starts a new round of its branches: arrivals its joins recorded
        in an earlier round (before a send-back) no longer count.
        """
        self.leave(source)
        if len(targets) > 1:
            stale = fork_joins(self.spec, targets) & set(self.app.arrived or {})
            if stale:
                self.app.arrived = {k: v for k, v in (self.app.arrived or {}).items() if k not in stale}
        for target in targets:
            if self.app.status == CLOSED:
                break
            self.enter(target, source)

    def close(self, end_stage: str) -> None:
        """Finish at an end stage: every clock stops, other branches end too."""
        stage = self.spec.stage(end_stage)
        clocks.stop(self.clocks, self.today)
        self.app.stages = [end_stage]
        self.app.status = CLOSED
        self.app.result = stage.result
        self.app.awaiting = None
        self.app.arrived = {}
        self.entered.append(end_stage)

    def start_commitment(self, action_id: str | None) -> None:
        """Start the commitment clock on its `starts_on` action (or on submit when none)."""
        commitment = self.spec.commitment
        if commitment is None or self.app.status == CLOSED or commitment.starts_on != action_id:
            return
        if any(c.name == clocks.COMMITMENT for c in self.clocks):
            return
        self.start_clock(clocks.COMMITMENT, commitment.period)

    # -- finishing ---------------------------------------------------------
    def finish(self, event: Event) -> Event:
        """Project clocks onto the row, add the one event, flush once."""
        stages = list(self.app.stages or [])
        self.app.stage = stages[0] if stages else None
        clocks.project(self.app, self.clocks, self.spec, self.today)
        sync_stage_rows(self.session, self.app, fresh=self.fresh)
        self.app.updated_at = utcnow()
        event.application_id = self.app.id
        if self.from_params:
            event.details = {**(event.details or {}), "clock_days": dict(self.from_params)}
        self.session.add(event)
        try:
            self.session.flush()
        except StaleDataError:
            raise StaleApplication(current_state(self.app, self.spec)) from None
        return event
