"""Moving an application between stages: enter, leave, fork, join, close.

A `Move` gathers every change of one transition in memory (stages, clocks,
projection) so the application row is flushed once and its version bumped
once. It reads the workflow only from the application's pinned versions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import JSON, and_, bindparam, exists, func, select, type_coerce
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from formflow.calendars.workdays import WorkCalendar, load_calendar
from formflow.db.models import (
    NO_DEADLINE,
    Application,
    ApplicationStage,
    Event,
    Office,
    ReviewMarking,
    RoleAssignment,
    StageClock,
    WebhookSubscription,
    utcnow,
)
from formflow.packs.versions import load_pinned
from formflow.workflow import clocks
from formflow.workflow.access import Held, held_from_rows
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


def _sqlite_write_lock(session: Session, app_id: int) -> None:
    """SQLite has no row locks: a no-op UPDATE takes the database's write lock first."""
    if session.get_bind().dialect.name == "sqlite":
        # a no-op write that leaves the primary key alone (assigning it makes SQLite check every child table);
        # sent on the session's connection: a Core statement needs none of the ORM's execution
        session.connection().execute(_TOUCH, {"app_id": app_id})


_APP = Application.__table__
_TOUCH = _APP.update().where(_APP.c.id == bindparam("app_id")).values(version=_APP.c.version)
_LOCK = select(Application).where(Application.id == bindparam("app_id")).execution_options(populate_existing=True)
_LOCK_SKIP = _LOCK.with_for_update(skip_locked=True)
_LOCK_WAIT = _LOCK.with_for_update()
#: The latest marking of the application at the stage bound as `stage` (of any table).
_LATEST_AT_STAGE = (
    select(ReviewMarking.id)
    .where(ReviewMarking.application_id == Application.id, ReviewMarking.stage == bindparam("stage"))
    .order_by(ReviewMarking.id.desc())
    .limit(1)
    .correlate(Application)
    .scalar_subquery()
)
#: Whether the application's pack has an active webhook subscription (its events' look-up is needed).
_HOOKED = (
    exists()
    .where(WebhookSubscription.pack == Application.pack, WebhookSubscription.active.is_(True))
    .correlate(Application)
)


def _held_json(dialect: str) -> Any:
    """The assignments of the account bound as `actor_id` as one JSON array (`access.held_from_rows`)."""
    ra, office = RoleAssignment.__table__, Office.__table__
    agg, row = (func.json_agg, func.json_build_array) if dialect == "postgresql" else \
        (func.json_group_array, func.json_array)
    rows = (
        select(agg(row(ra.c.id, ra.c.role, office.c.id, office.c.pack, office.c.name, office.c.level, office.c.path)))
        .select_from(ra.outerjoin(office, office.c.id == ra.c.office_id))
        .where(ra.c.account_id == bindparam("actor_id"))
        .scalar_subquery()
    )
    return type_coerce(rows, JSON)


def _lock_live(dialect: str) -> Any:
    """The application, its live clocks (running or paused, oldest first), that marking, whether its pack has
    webhook subscriptions and the actor's assignments, in the statement that locks it (built once per dialect)."""
    found = _LOCK_LIVE.get(dialect)
    if found is None:
        found = _LOCK_LIVE[dialect] = (
            select(Application, StageClock, ReviewMarking, _HOOKED.label("hooked"),
                   _held_json(dialect).label("held"))
            .outerjoin(StageClock, and_(StageClock.application_id == Application.id, StageClock.stopped_on.is_(None)))
            .outerjoin(ReviewMarking, ReviewMarking.id == _LATEST_AT_STAGE)
            .where(Application.id == bindparam("app_id"))
            .order_by(StageClock.id)
            .with_for_update(of=Application)
            .execution_options(populate_existing=True)
        )
    return found


_LOCK_LIVE: dict[str, Any] = {}


def lock(session: Session, app_id: int, *, skip_locked: bool = False) -> Application | None:
    """Load the application with a row lock (FOR UPDATE on PostgreSQL).

    SQLite has no row locks: a no-op UPDATE first takes the database's write
    lock, so concurrent writers queue there and then read the current row.
    """
    _sqlite_write_lock(session, app_id)
    return session.scalars(_LOCK_SKIP if skip_locked else _LOCK_WAIT, {"app_id": app_id}).one_or_none()


@dataclass(frozen=True)
class Locked:
    """A locked application with what a transition reads next."""

    app: Application
    #: its live clocks, as `clocks.live` reads them
    clocks: list[StageClock]
    #: its latest marking at the stage named to `lock_live` (of whichever table), None when there is none
    marking: ReviewMarking | None
    #: whether its pack had an active webhook subscription when it was locked
    hooked: bool = True
    #: the actor's (role, office) assignments, as `access.assignments` reads them (None: not read)
    held: Held | None = None


def lock_live(session: Session, app_id: int, stage: str | None, actor_id: int) -> Locked:
    """`lock_or_fail`, the application's live clocks, its latest marking at `stage`, whether its pack has
    webhook subscriptions and the actor's assignments, read in one statement."""
    _sqlite_write_lock(session, app_id)
    statement = _lock_live(session.get_bind().dialect.name)
    rows = session.execute(statement, {"app_id": app_id, "stage": stage, "actor_id": actor_id}).all()
    if not rows:
        raise UnknownApplication(app_id)
    app, _clock, marking, hooked, held = rows[0]
    return Locked(app, [row[1] for row in rows if row[1] is not None], marking, bool(hooked), held_from_rows(held))


def sync_stage_rows(session: Session, app: Application, *, before: Iterable[str] | None = None) -> None:
    """Make the queue projection (`application_stages`) list exactly the application's current stages.

    Each row also carries what the queue sorts by (the application's overdue
    flag and deadline): new rows get them here, so call it after the clocks are
    projected onto the application and flushed (the engine's moves and the
    timers both do, in `Move.finish`); later changes reach existing rows by the
    database trigger of migration 0012, whoever updates the application.
    `before`: the stages the projection listed before the move (the application's
    current stages when it was loaded): then nothing is read, only what changed is
    written (a row already there is left alone); None reads the rows first.
    """
    current = set(app.stages or []) if app.status == ACTIVE else set()
    if before is None:
        before = session.scalars(_STAGE_ROWS, {"app_id": app.id}).all()
    listed = set(before)
    left, added = sorted(listed - current), sorted(current - listed)
    overdue, due = bool(app.overdue), app.deadline or NO_DEADLINE
    if len(left) == 1 and len(added) == 1 and _move_row(session, app, left[0], added[0], overdue, due):
        return
    connection = session.connection()  # Core statements, after the move's flush: none of the ORM's execution
    if left:
        connection.execute(_DROP_ROWS, {"app_id": app.id, "keep": sorted(current)})
    if added:
        rows = [{"application_id": app.id, "stage": stage, "pack": app.pack, "office_path": app.office_path,
                 "overdue": overdue, "due": due} for stage in added]
        connection.execute(_add_rows(session), rows)


def _move_row(session: Session, app: Application, source: str, target: str, overdue: bool, due: date) -> bool:
    """One stage for another, the common move: the row of `source` becomes that of `target` (one UPDATE).

    False when there is no such row or `target` already has one (then rows are dropped and added)."""
    moved = session.connection().execute(_MOVE_ROW, {"app_id": app.id, "source": source, "target": target,
                                        "overdue": overdue, "due": due, "pack": app.pack,
                                        "office_path": app.office_path})
    return isinstance(moved, CursorResult) and moved.rowcount == 1


_ROWS = ApplicationStage.__table__
_OTHER = _ROWS.alias("other")
_STAGE_ROWS = select(_ROWS.c.stage).where(_ROWS.c.application_id == bindparam("app_id"))
_DROP_ROWS = _ROWS.delete().where(_ROWS.c.application_id == bindparam("app_id"),
                                  _ROWS.c.stage.not_in(bindparam("keep", expanding=True)))
_MOVE_ROW = (
    _ROWS.update()
    .where(_ROWS.c.application_id == bindparam("app_id"), _ROWS.c.stage == bindparam("source"),
           ~select(_OTHER.c.id).where(_OTHER.c.application_id == bindparam("app_id"),
                                      _OTHER.c.stage == bindparam("target")).exists())
    .values(stage=bindparam("target"), overdue=bindparam("overdue"), due=bindparam("due"),
            pack=bindparam("pack"), office_path=bindparam("office_path"))
)


def _add_rows(session: Session) -> Any:
    """INSERT of stage rows that leaves a row already there alone (the unique application, stage)."""
    name = session.get_bind().dialect.name
    found = _INSERTS.get(name)
    if found is None:
        insert = postgresql_insert if name == "postgresql" else sqlite_insert
        found = _INSERTS[name] = insert(_ROWS).on_conflict_do_nothing(index_elements=["application_id", "stage"])
    return found


_INSERTS: dict[str, Any] = {}


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
    #: the stages its queue projection lists now (`sync_stage_rows`): those the application is at
    before: tuple[str, ...] = ()
    #: clocks started by this move whose days came from a parameter: name → days, unit, parameter
    from_params: dict[str, dict[str, object]] = field(default_factory=dict)

    @classmethod
    def of(cls, session: Session, app: Application, today: date, calendar: WorkCalendar, *,
           fresh: bool = False, live: list[StageClock] | None = None, spec: WorkflowSpec | None = None) -> Move:
        """The move of `app` from now on; `live`: its live clocks when the caller read them (`lock_live`).

        `fresh`: the application is entering the workflow: it has no clocks or stage rows to read.
        `spec`: its pinned workflow when the caller has it (`workflow_of`)."""
        spec = spec or workflow_of(session, app)
        if live is None:
            live = [] if fresh else clocks.live(session, app.id)
        before = tuple(app.stages or ()) if app.status == ACTIVE and not fresh else ()
        return cls(session, app, spec, today, calendar, live, before=before)

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
        """Project clocks onto the row, add the one event, flush once; then the stage rows that changed."""
        stages = list(self.app.stages or [])
        self.app.stage = stages[0] if stages else None
        clocks.project(self.app, self.clocks, self.spec, self.today)
        self.app.updated_at = utcnow()
        event.application_id = self.app.id
        if self.from_params:
            event.details = {**(event.details or {}), "clock_days": dict(self.from_params)}
        self.session.add(event)
        try:
            self.session.flush()
        except StaleDataError:
            raise StaleApplication(current_state(self.app, self.spec)) from None
        sync_stage_rows(self.session, self.app, before=self.before)
        self.before = tuple(self.app.stages or ()) if self.app.status == ACTIVE else ()  # a second finish
        return event
