"""The four measurements of one filled database, and the plans of the queue query.

(a) bare insert   — one comparable row per transaction into a scratch table shaped
                    like `applications` (same queue index, same sealed-data size,
                    pre-filled with as many rows as `applications` has);
(b) submissions   — `applications.submit` of valid drafts, each in its own
                    transaction like the web's POST (drafts made beforehand, untimed);
(c) bare select   — the queue's shape by hand: stage = …, a range on office_path,
                    ORDER BY deadline LIMIT 20, all columns, no ORM, no decryption;
(d) queue pages   — `queue.queue_page` for the street reviewer of 金山街道, one
                    session per page like a request, following `next_cursor`
                    (back to the first page when the queue ends); each page timed,
                    median and p99 printed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from drafts import HOME_OFFICE, MATTER, PACK, form_data, record_upload, with_materials
from sqlalchemy import event, select, text

STREET_REVIEWER = "mj-street"
STREET_OFFICE = "441402001"  # 金山街道
SCRATCH = "bench_scratch"


@dataclass
class Rate:
    count: int
    seconds: float
    #: each timed call's seconds, when they were timed one by one (queue pages)
    each: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else float("inf")

    @property
    def ms_each(self) -> float:
        return 1000 * self.seconds / self.count if self.count else 0.0

    def percentile_ms(self, share: float) -> float | None:
        """The `share` (0–1) percentile of the calls timed one by one, in ms (None when not timed so)."""
        if not self.each:
            return None
        ordered = sorted(self.each)
        return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class Plan:
    label: str
    lines: list[str]
    index: str | None  # the index the plan reads applications through, if any
    full_scan: bool
    sort: bool


@dataclass
class Measured:
    insert: Rate
    submit: Rate
    select: Rate
    queue: Rate
    plans: list[Plan] = field(default_factory=list)
    queue_rows: int = 0  # rows seen while following the queue
    queue_wrapped: int = 0  # times the queue ran out and started again
    phases: dict[str, float] = field(default_factory=dict)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


# --------------------------------------------------------------------------- (a) bare insert

def make_scratch(db) -> None:
    """A table shaped like `applications` for the columns a submission writes, with its queue index."""
    blob = "BLOB" if db.kind == "sqlite" else "BYTEA"
    path = 'VARCHAR(400) COLLATE "C"' if db.kind == "postgresql" else "VARCHAR(400)"
    ident = "INTEGER PRIMARY KEY" if db.kind == "sqlite" else "BIGSERIAL PRIMARY KEY"
    with db.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {SCRATCH}"))
        conn.execute(text(
            f"CREATE TABLE {SCRATCH} (id {ident}, pack VARCHAR(64) NOT NULL, matter VARCHAR(64) NOT NULL, "
            f"status VARCHAR(16) NOT NULL, office_path {path}, stage VARCHAR(64), category VARCHAR(64), "
            f"deadline DATE, overdue BOOLEAN NOT NULL, data {blob}, created_at TIMESTAMP)"))
        conn.execute(text(f"CREATE INDEX ix_{SCRATCH}_queue ON {SCRATCH} (stage, office_path, deadline)"))
        conn.execute(text(
            f"INSERT INTO {SCRATCH} (pack, matter, status, office_path, stage, category, deadline, overdue, data, "
            f"created_at) SELECT pack, matter, status, office_path, stage, category, deadline, overdue, data, "
            f"created_at FROM applications"))
    if db.kind == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"VACUUM ANALYZE {SCRATCH}"))


def bare_insert(db, count: int, sealed: bytes, today: date) -> Rate:
    stmt = text(f"INSERT INTO {SCRATCH} (pack, matter, status, office_path, stage, category, deadline, overdue, "
                f"data, created_at) VALUES (:pack, :matter, 'active', :path, 'community_acceptance', "
                f":category, :deadline, :overdue, :data, :created)")
    row = {"pack": PACK, "matter": MATTER, "path": "/441400/441402/441402001/441402001001/",
           "category": "low-income", "deadline": today, "overdue": False, "data": sealed,
           "created": datetime.now(UTC).replace(tzinfo=None)}

    with db.engine.begin() as conn:  # one untimed insert first
        conn.execute(stmt, row)

    def run() -> None:
        for _ in range(count):
            with db.engine.begin() as conn:  # one row, one transaction: like one submission
                conn.execute(stmt, row)

    _, seconds = _timed(run)
    return Rate(count, seconds)


# --------------------------------------------------------------------------- (b) submissions

def citizens(db, count: int, tag: str) -> list[int]:
    """`count` fresh citizen accounts (each may hold one open draft)."""
    from formflow.db.models import Account

    with db.sessions.begin() as session:
        rows = [Account(username=f"bench-{tag}-{k:06d}", display_name=f"基准申请人{k}", is_demo=False)
                for k in range(count)]
        session.add_all(rows)
        session.flush()
        return [a.id for a in rows]


def prepare_drafts(db, count: int, *, today: date, first_index: int, tag: str) -> list[tuple[int, int]]:
    """(account id, application id) of `count` valid, complete, saved drafts (start_draft + save_draft)."""
    from formflow.applications import drafts as apps
    from formflow.db.models import Account

    out = []
    for k, account_id in enumerate(citizens(db, count, tag)):
        with db.sessions.begin() as session:
            account = session.get(Account, account_id)
            app = apps.start_draft(session, db.packs, applicant=account, pack=PACK, matter=MATTER,
                                   office_id=HOME_OFFICE, channel="community")
            pinned = apps.pinned_of(session, app)
            record_upload(session, app.id, account.id)
            data = with_materials(pinned, form_data(first_index + k), today)
            app = apps.save_draft(session, app.id, data, actor=account, expected_version=app.version,
                                  step="materials", today=today)
            out.append((account_id, app.id))
    return out


def submissions(db, drafts: list[tuple[int, int]], *, today: date, calendar) -> Rate:
    from formflow.applications import drafts as apps
    from formflow.db.models import Account

    def run() -> None:
        for account_id, app_id in drafts[1:]:
            with db.sessions.begin() as session:  # one POST /submit: one transaction
                account = session.get(Account, account_id)
                app = apps.submit(session, app_id, actor=account, expected_version=None,
                                  token=apps.new_submit_token(), keys=db.keys, today=today, calendar=calendar)
                assert app.status == "active" and app.stages == ["community_acceptance"], (app.id, app.stages)

    warm = drafts[0]  # one untimed submission first: validators compiled, caches warm, as in a running server
    with db.sessions.begin() as session:
        apps.submit(session, warm[1], actor=session.get(Account, warm[0]), expected_version=None,
                    token=apps.new_submit_token(), keys=db.keys, today=today, calendar=calendar)
    _, seconds = _timed(run)
    return Rate(len(drafts) - 1, seconds)


# --------------------------------------------------------------------------- (c) bare select

def bare_select_sql() -> str:
    return ("SELECT * FROM applications WHERE stage = :stage AND office_path >= :lo AND office_path < :hi "
            "ORDER BY deadline LIMIT 20")


def street_range(db) -> tuple[str, str]:
    from formflow.auth.jurisdiction import path_upper_bound
    from formflow.db.models import Office

    with db.sessions() as session:
        path = session.scalar(select(Office.path).where(Office.id == STREET_OFFICE))
    return path, path_upper_bound(path)


def bare_select(db, count: int) -> Rate:
    lo, hi = street_range(db)
    stmt = text(bare_select_sql())
    params = {"stage": "street_review", "lo": lo, "hi": hi}

    with db.engine.connect() as conn:  # one untimed select first
        conn.execute(stmt, params).all()
        conn.rollback()

    def run() -> None:
        with db.engine.connect() as conn:
            for _ in range(count):
                rows = conn.execute(stmt, params).all()
                assert rows, "the bare select found nothing"
                conn.rollback()

    _, seconds = _timed(run)
    return Rate(count, seconds)


# --------------------------------------------------------------------------- (d) queue pages

def reviewer_id(db, username: str = STREET_REVIEWER) -> int:
    from formflow.db.models import Account

    with db.sessions() as session:
        return session.scalar(select(Account.id).where(Account.username == username))


def queue_pages(db, count: int) -> tuple[Rate, int, int]:
    from formflow.reviews.queue import queue_page

    account = reviewer_id(db)
    seen = wrapped = 0
    each: list[float] = []
    with db.sessions() as session:  # one untimed page first (workflow specs parsed and cached)
        queue_page(session, account, limit=20, packset=db.packs)

    def run() -> None:
        nonlocal seen, wrapped
        cursor = None
        for _ in range(count):
            started = time.perf_counter()
            with db.sessions() as session:  # one request, one session
                page = queue_page(session, account, after=cursor, limit=20, packset=db.packs)
            each.append(time.perf_counter() - started)
            seen += len(page.items)
            cursor = page.next_cursor
            if cursor is None:
                wrapped += 1
        assert seen, "the street reviewer's queue is empty"

    _, seconds = _timed(run)
    return Rate(count, seconds, each), seen, wrapped


# --------------------------------------------------------------------------- plans

def _capture_queue_sql(db, after: str | None) -> tuple[str, Any, str | None]:
    """The statement (and driver parameters) queue_page sends for one page, and that page's next cursor."""
    from formflow.reviews.queue import queue_page

    seen: list[tuple[str, Any]] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        if "FROM application_stages" in statement and "ORDER BY" in statement and "LIMIT" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        with db.sessions() as session:
            page = queue_page(session, reviewer_id(db), after=after, limit=20, packset=db.packs)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert seen, "queue_page sent no ordered query over the stage projection"
    statement, parameters = seen[-1]
    return statement, parameters, page.next_cursor


def _explain(db, label: str, statement: str, parameters: Any) -> Plan:
    with db.engine.connect() as conn:
        if db.kind == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            depth: dict[int, int] = {0: -1}
            lines = []
            for node, parent, _unused, detail in rows:
                depth[node] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node] + detail)
        else:
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
            lines = [r[0] for r in rows]
        conn.rollback()
    return _verdict(db.kind, label, lines)


def _verdict(kind: str, label: str, lines: list[str]) -> Plan:
    import re

    body = "\n".join(lines)
    if kind == "sqlite":
        found = re.search(r"(?:SEARCH|SCAN) (?:applications|application_stages) USING (?:COVERING )?INDEX (\w+)",
                          body)
        # SCAN reads every row (of the table, or of an index in index order); SEARCH is a range
        full = bool(re.search(r"\bSCAN applications\b", body))
        sort = "USE TEMP B-TREE FOR ORDER BY" in body
    else:
        found = re.search(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan) (?:Backward )?(?:using|on) (\w+)", body)
        full = bool(re.search(r"Seq Scan on applications", body))
        sort = bool(re.search(r"\bSort\b", body))
    return Plan(label, lines, found.group(1) if found else None, full, sort)


def plans(db) -> list[Plan]:
    statement, parameters, cursor = _capture_queue_sql(db, None)
    out = [_explain(db, "queue_page, first page (what queue.py sends)", statement, parameters)]
    if cursor:
        statement, parameters, _ = _capture_queue_sql(db, cursor)
        out.append(_explain(db, "queue_page, a following page (keyset cursor)", statement, parameters))
    lo, hi = street_range(db)
    with db.engine.connect() as conn:
        compiled = text(bare_select_sql()).bindparams(stage="street_review", lo=lo, hi=hi).compile(conn)
        sql = compiled.string
        params: Any = ([compiled.params[k] for k in compiled.positiontup] if db.kind == "sqlite"
                       else compiled.params)
    out.append(_explain(db, "bare indexed select (by hand)", sql, tuple(params) if db.kind == "sqlite" else params))
    return out


# --------------------------------------------------------------------------- all four

def measure(db, *, today: date, calendar, submissions_n: int, pages_n: int, inserts_n: int, selects_n: int,
            tag: str, first_index: int, log: Callable[[str], None]) -> Measured:
    from formflow.personal.crypto import active_keys

    phases: dict[str, float] = {}
    started = time.perf_counter()
    make_scratch(db)
    phases["scratch table"] = time.perf_counter() - started

    sealed = active_keys().seal(_sample_json(db, today))
    log(f"    bare insert: {inserts_n} rows, one per transaction …")
    insert = bare_insert(db, inserts_n, sealed, today)
    phases["bare insert"] = insert.seconds

    log(f"    preparing {submissions_n} valid drafts (start_draft + save_draft, not timed) …")
    drafts, seconds = _timed(lambda: prepare_drafts(db, submissions_n + 1, today=today, first_index=first_index,
                                                   tag=tag))
    phases["drafts (untimed)"] = seconds
    log(f"    submitting {submissions_n} drafts …")
    submit = submissions(db, drafts, today=today, calendar=calendar)
    phases["submissions"] = submit.seconds

    log(f"    bare select × {selects_n} …")
    select_rate = bare_select(db, selects_n)
    phases["bare select"] = select_rate.seconds

    log(f"    queue pages × {pages_n} …")
    queue, seen, wrapped = queue_pages(db, pages_n)
    phases["queue pages"] = queue.seconds
    log(f"    queue pages: median {queue.percentile_ms(0.5):.2f} ms, p99 {queue.percentile_ms(0.99):.2f} ms, "
        f"max {queue.percentile_ms(1.0):.2f} ms a page")

    started = time.perf_counter()
    explained = plans(db)
    phases["explain"] = time.perf_counter() - started
    return Measured(insert, submit, select_rate, queue, explained, seen, wrapped, phases)


def _sample_json(db, today: date) -> str:
    """A complete form as the submit path stores it (to size the bare insert's data column alike)."""
    import json

    from formflow.applications import drafts as apps
    from formflow.packs.versions import load_pinned, pin

    with db.sessions() as session:
        pinned = load_pinned(session, pin(session, db.packs, PACK, MATTER))
        session.rollback()
    data = apps.apply_computed(pinned, with_materials(pinned, form_data(0), today), today)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


__all__ = ["Measured", "Plan", "Rate", "measure"]
