"""One Meizhou application from submission to approval, each transition timed.

The chain of the shipped workflow (workflows/meizhou-meijiang/public-rental-housing.yaml)
has ten transitions on its happy path:

     1  submit                       applications.submit (enters the workflow)
     2  community_acceptance.accept  engine.perform   (marks table acceptance; issues a PDF notice)
     3  street_review.approve        engine.perform   (marks table acceptance)
     4  public_notice expires        the timer path of `tick` for this application (lock + expiry)
     5  street_forward.forward       engine.perform
     6  civil_affairs_review.approve engine.perform   (marks table written-review)
     7  housing_review.approve       engine.perform   (marks table written-review)
     8  centre_review.approve        engine.perform   (marks table written-review)
     9  section_approval.approve     engine.perform   (marks table decision)
    10  leader_approval.approve      engine.perform   (marks table decision; issues a PDF notice)

Eight go through `engine.perform`; the submission and the timer expiry go through
their own services. Each marking (`reviews.record_marking`, what the guard
`outcome: pass` needs) and each transition is its own transaction, like the desk's
two POSTs, and both are timed separately. The expiry is timed as `tick` handles one
application (its own transaction, row lock, `_tick_one`), not a whole `tick` run:
on a filled database a real tick would also move every other due application.

`run_flow` first takes another application through the same flow untimed (a warm-up: a
server's caches are warm) and, on SQLite, checkpoints the write-ahead log before the timed one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

from drafts import HOME_OFFICE, MATTER, PACK, form_data, record_upload, with_materials
from sqlalchemy import event, select

CHAIN = [
    # (stage, action, username, table marked before the action?)
    ("community_acceptance", "accept", "mj-community", True),
    ("street_review", "approve", "mj-street", True),
    ("public_notice", None, None, False),
    ("street_forward", "forward", "mj-street", False),
    ("civil_affairs_review", "approve", "mj-civil-affairs", True),
    ("housing_review", "approve", "mj-housing", True),
    ("centre_review", "approve", "mj-centre", True),
    ("section_approval", "approve", "mj-section", True),
    ("leader_approval", "approve", "mj-leader", True),
]


@dataclass
class Step:
    no: int
    what: str
    via: str
    to: str
    mark_ms: float | None
    ms: float
    slowest: tuple[float, str] | None = None  # the slowest SQL statement of the transition (ms, text)


def _full_marking(table: dict) -> dict:
    return {"rows": {str(row["no"]): {"criteria": ["pass"] * len(row["criteria"])} for row in table["rows"]}}


class SlowestStatement:
    """Times every statement on the engine; `take()` returns the slowest since the last take."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.worst: tuple[float, str] | None = None

    def __enter__(self) -> SlowestStatement:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        ms = 1000 * (time.perf_counter() - conn.info.pop("bench_started", time.perf_counter()))
        if self.worst is None or ms > self.worst[0]:
            self.worst = (ms, " ".join(statement.split()))

    def take(self) -> tuple[float, str] | None:
        worst, self.worst = self.worst, None
        return worst


#: The warm-up flow's application: its ID numbers are those of `index + WARM_OFFSET` (none of the timed ones).
WARM_OFFSET = 50_000


def run_flow(db, *, today: date, calendar, renderers, tag: str, index: int, warm: bool = True) -> list[Step]:
    """The timed flow's steps; `warm`: another application goes through the same flow first (untimed).

    The warm-up fills what a running server has filled long before (statements compiled, pinned
    documents parsed, the first notice's templates): a fresh process's first flow times those once.
    On SQLite the write-ahead log is then checkpointed, so that its automatic checkpoint (one every
    1,000 pages written, ~10 ms) does not land on one of the few commits timed here."""
    with SlowestStatement(db.engine) as slow:
        if warm:
            _run_flow(db, slow, today=today, calendar=calendar, renderers=renderers, tag=f"{tag}-warm",
                      index=index + WARM_OFFSET)
            _checkpoint(db)
        return _run_flow(db, slow, today=today, calendar=calendar, renderers=renderers, tag=tag, index=index)


def _checkpoint(db) -> None:
    """SQLite: copy the write-ahead log into the database file and empty it (nothing elsewhere)."""
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _run_flow(db, slow: SlowestStatement, *, today: date, calendar, renderers, tag: str, index: int) -> list[Step]:
    from measures import citizens

    from formflow.applications import drafts as apps
    from formflow.db.models import Account, Application
    from formflow.packs.versions import load_pinned
    from formflow.reviews.tables import record_marking
    from formflow.workflow import engine
    from formflow.workflow.moves import lock
    from formflow.workflow.timers import TickReport, _tick_one

    def account(session, username: str) -> Account:
        return session.scalar(select(Account).where(Account.username == username))

    (citizen,) = citizens(db, 1, tag)
    with db.sessions.begin() as session:
        who = session.get(Account, citizen)
        app = apps.start_draft(session, db.packs, applicant=who, pack=PACK, matter=MATTER, office_id=HOME_OFFICE,
                               channel="community")
        pinned = apps.pinned_of(session, app)
        record_upload(session, app.id, who.id)
        app = apps.save_draft(session, app.id, with_materials(pinned, form_data(index), today), actor=who,
                              expected_version=app.version, step="materials", today=today)
        app_id = app.id

    steps: list[Step] = []
    slow.take()
    started = time.perf_counter()
    with db.sessions.begin() as session:
        app = apps.submit(session, app_id, actor=session.get(Account, citizen), expected_version=None,
                          token=apps.new_submit_token(), keys=db.keys, today=today, calendar=calendar)
        stages = list(app.stages)
    steps.append(Step(1, "submit", "applications.submit", ",".join(stages), None,
                      1000 * (time.perf_counter() - started), slow.take()))

    day = today
    for stage, action, username, mark in CHAIN:
        no = len(steps) + 1
        if action is None:  # the timer: the day after its due date, as tick handles one application
            with db.sessions() as session:
                day = session.get(Application, app_id).deadline + timedelta(days=1)
            slow.take()
            started = time.perf_counter()
            session = db.sessions()
            try:
                with session.begin():
                    locked = lock(session, app_id, skip_locked=True)
                    report = TickReport()
                    _tick_one(session, locked, day, calendar, report)
                    assert report.expired == [app_id], (stage, report)
                    stages = list(locked.stages)
            finally:
                session.close()
            steps.append(Step(no, f"{stage} expires", "tick (one application)", ",".join(stages), None,
                              1000 * (time.perf_counter() - started), slow.take()))
            continue
        mark_ms = None
        if mark:
            started = time.perf_counter()
            with db.sessions.begin() as session:
                app = session.get(Application, app_id)
                pinned = load_pinned(session, app.versions)
                table_id = pinned.workflow["stages"][stage]["table"]
                record_marking(session, app, stage, table_id, _full_marking(pinned.table(table_id)),
                               account(session, username), pinned)
            mark_ms = 1000 * (time.perf_counter() - started)
        slow.take()
        started = time.perf_counter()
        with db.sessions.begin() as session:
            version = session.scalar(select(Application.version).where(Application.id == app_id))
            moved = engine.perform(session, app_id, stage=stage, action=action, actor=account(session, username),
                                   expected_version=version, calendar=calendar, today=day, storage=db.storage,
                                   renderers=renderers, keys=db.keys)
            stages = list(moved.stages)
        steps.append(Step(no, f"{stage}.{action}", "engine.perform", ",".join(stages), mark_ms,
                          1000 * (time.perf_counter() - started), slow.take()))

    with db.sessions() as session:
        app = session.get(Application, app_id)
        assert (app.status, app.result) == ("closed", "approved"), (app.status, app.result, app.stages)
    return steps


__all__ = ["CHAIN", "WARM_OFFSET", "Step", "run_flow"]
