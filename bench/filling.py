"""Fill a benchmark database with N realistic Meizhou applications, fast.

What one filled application carries (per status):

- the `applications` row itself, with the pinned versions of the pack, the form
  data sealed exactly as `crypto.SealedJSON` writes it (a few distinct complete
  forms sealed once and reused: same size, same bytes on disk as the real path);
- non-drafts: two `household_members` rows (applicant, spouse), one `events` row
  (`submitted`), one `stage_clocks` row (the commitment clock: running while
  active, stopped once closed) and one `review_markings` row. A real application
  has more history (about ten events, a marking per reviewing stage): these are
  lower bounds, enough to make every table the services read non-trivial.

Spread: offices are the pack's communities plus synthetic demo communities
under each street (`communities_per_street`), so one street's range is a slice
of the table, not most of it; status 5 % draft, 35 % active, 60 % closed;
active rows over the workflow's non-end stages, each with a deadline around
`today` (about a quarter overdue, some without deadline); five categories.

SQLite: plain `executemany` on the driver connection in batches (one
transaction per batch). PostgreSQL: `COPY … FROM STDIN` through psycopg.
Ids are given explicitly; PostgreSQL sequences are moved past them afterwards.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from drafts import MATTER, PACK, form_data, with_materials
from sqlalchemy import select, text

from formflow.db.models import NO_DEADLINE

BATCH = 20_000

#: Active applications over the stages of the Meizhou chain (weights).
ACTIVE_STAGES = [
    ("community_acceptance", 15), ("street_review", 15), ("public_notice", 15), ("street_forward", 5),
    ("civil_affairs_review", 10), ("housing_review", 10), ("centre_review", 10), ("section_approval", 10),
    ("leader_approval", 10),
]
CLOSED = [("approved", "approved", 70), ("rejected", "rejected", 20), ("withdrawn", "withdrawn", 6),
          ("not_accepted", "not_accepted", 4)]
CATEGORIES = ["low-income-subsistence", "low-income", "lower-middle-income", "migrant-worker", "new-employee"]
CHANNELS = ["community", "hall", None]

APP_COLUMNS = (
    "id", "number", "pack", "matter", "status", "result", "applicant_id", "channel", "assisted_by_id",
    "office_id", "office_path", "versions", "data", "current_step", "stages", "stage", "category",
    "submitted_at", "deadline", "overdue", "household_hashes", "version", "created_at", "updated_at",
    "awaiting", "arrived",
)
MEMBER_COLUMNS = ("id", "application_id", "matter", "id_hash", "active")
STAGE_COLUMNS = ("id", "application_id", "stage", "pack", "office_path", "overdue", "due")
EVENT_COLUMNS = ("id", "application_id", "actor_id", "actor_role", "action", "from_stage", "to_stage", "at",
                 "note", "details")
CLOCK_COLUMNS = ("id", "application_id", "name", "started_on", "due_on", "unit", "days", "running",
                 "paused_on", "stopped_on")
MARKING_COLUMNS = ("id", "application_id", "stage", "table_id", "table_version", "marking", "outcome",
                   "reviewer_id", "at")
ACCOUNT_COLUMNS = ("id", "username", "display_name", "is_active", "failed_logins", "session_epoch", "is_demo",
                   "created_at")


def _weighted(choices: list[tuple], rnd: random.Random) -> tuple:
    total = sum(c[-1] for c in choices)
    pick = rnd.uniform(0, total)
    for choice in choices:
        pick -= choice[-1]
        if pick <= 0:
            return choice
    return choices[-1]


# --------------------------------------------------------------------------- offices and accounts

def add_offices(session, per_street: int) -> list[tuple[str, str]]:
    """Synthetic demo communities under each street of the pack; returns every community (id, path)."""
    from formflow.db.models import Office

    streets = session.scalars(select(Office).where(Office.pack == PACK, Office.kind == "street")).all()
    for street in streets:
        for n in range(1, per_street + 1):
            oid = f"{street.id}9{n:02d}"
            if session.get(Office, oid) is None:
                session.add(Office(id=oid, pack=PACK, name=f"{street.name}基准测试社区{n}", kind="community",
                                   level="community", parent_id=street.id, region_code=oid,
                                   path=f"{street.path}{oid}/", selectable=True))
    session.flush()
    rows = session.execute(select(Office.id, Office.path).where(Office.pack == PACK, Office.kind == "community")
                           .order_by(Office.id)).all()
    return [(r.id, r.path) for r in rows]


def next_id(conn, table: str) -> int:
    return int(conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar()) + 1


# --------------------------------------------------------------------------- writers

class Writer:
    """Rows into tables: executemany on SQLite, COPY on PostgreSQL (values as Python objects)."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.kind = engine.dialect.name

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        if self.kind == "postgresql":
            raw = self.engine.raw_connection()
            try:
                with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                raw.commit()
            finally:
                raw.close()
            return
        raw = self.engine.raw_connection()
        try:
            marks = ", ".join("?" for _ in columns)
            cur = raw.cursor()
            cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                            [tuple(_sqlite_value(v) for v in row) for row in rows])
            raw.commit()
        finally:
            raw.close()


def _sqlite_value(value: Any) -> Any:
    """How SQLAlchemy stores the value on SQLite (DateTime/Date as text, bool as int)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------- the fill

class Filler:
    """Generates and writes the rows of `n` applications; `progress(done, n, elapsed)` per batch."""

    def __init__(self, db, n: int, *, today: date, per_street: int = 8, seed: int = 20260302) -> None:
        self.db = db
        self.n = n
        self.today = today
        self.per_street = per_street
        self.rnd = random.Random(seed)

    def prepare(self) -> None:
        from formflow.applications import drafts as apps
        from formflow.db.models import Account
        from formflow.packs.versions import load_pinned, pin
        from formflow.personal.crypto import active_keys

        with self.db.sessions.begin() as session:
            self.offices = add_offices(session, self.per_street)
            self.versions = pin(session, self.db.packs, PACK, MATTER)
            pinned = load_pinned(session, self.versions)
            self.tables = dict(self.versions.get("tables") or {})
            self.reviewer = session.scalar(select(Account.id).where(Account.username == "mj-community"))
            keys = active_keys()
            self.sealed = []
            for i in range(16):
                data = apps.apply_computed(pinned, with_materials(pinned, form_data(10_000_000 + i), self.today),
                                           self.today)
                self.sealed.append(keys.seal(_json(data)))
            draft = {"category": form_data(0)["category"], "members": {}, "housing": {}, "assets": {},
                     "materials": {}}
            self.sealed_draft = keys.seal(_json(draft))
        with self.db.engine.connect() as conn:
            self.ids = {t: next_id(conn, t) for t in ("applications", "household_members", "events",
                                                     "stage_clocks", "review_markings", "accounts",
                                                     "application_stages")}
        now = datetime.now(UTC)
        owners = 1000
        first = self.ids["accounts"]
        Writer(self.db.engine).write("accounts", ACCOUNT_COLUMNS, [
            (first + k, f"bench-owner-{first + k}", f"基准申请人{k}", True, 0, 0, False, now) for k in range(owners)
        ])
        self.owners = list(range(first, first + owners))
        self.ids["accounts"] = first + owners
        self.versions_json = _json(self.versions)
        self.marking_json = _json({"rows": {str(k): {"criteria": ["pass", "pass"]} for k in range(1, 8)}})

    def rows(self, start: int, count: int) -> dict[str, list[tuple]]:
        rnd = self.rnd
        out: dict[str, list[tuple]] = {"applications": [], "household_members": [], "events": [],
                                       "stage_clocks": [], "review_markings": [], "application_stages": []}
        base = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        for k in range(start, start + count):
            app_id = self.ids["applications"] + k
            office_id, office_path = self.offices[k % len(self.offices)]
            roll = rnd.random()
            # active ones were submitted in the last 60 days, closed ones over the last year
            created = base - timedelta(minutes=(k * 7) % (86_400 if 0.05 <= roll < 0.40 else 525_600))
            category = CATEGORIES[k % len(CATEGORIES)]
            channel = CHANNELS[k % len(CHANNELS)]
            if roll < 0.05:
                out["applications"].append((
                    app_id, None, PACK, MATTER, "draft", None, self.owners[k % len(self.owners)], channel, None,
                    office_id, office_path, self.versions_json, self.sealed_draft, "members", "[]", None,
                    category, None, None, False, "[]", 2, created, created, None, "{}",
                ))
                continue
            hashes = [hashlib.sha256(f"{app_id}:a".encode()).hexdigest(),
                      hashlib.sha256(f"{app_id}:s".encode()).hexdigest()]
            if roll < 0.40:
                stage = _weighted(ACTIVE_STAGES, rnd)[0]
                status, result = "active", None
                deadline = None if rnd.random() < 0.08 else self.today + timedelta(days=rnd.randint(-12, 36))
                overdue = deadline is not None and deadline < self.today
                running, stopped = True, None
            else:
                stage, result, _w = _weighted(CLOSED, rnd)
                status, deadline, overdue = "closed", None, False
                running, stopped = False, (created + timedelta(days=60)).date()
            out["applications"].append((
                app_id, f"B{app_id:012d}", PACK, MATTER, status, result, self.owners[k % len(self.owners)],
                channel, None, office_id, office_path, self.versions_json, self.sealed[k % len(self.sealed)],
                "materials", _json([stage]), stage, category, created, deadline, overdue, _json(hashes),
                3 if status == "active" else 9, created, created, None, "{}",
            ))
            if status == "active":  # the queue's projection row, as the workflow engine writes it
                out["application_stages"].append((self.ids["application_stages"] + k, app_id, stage, PACK,
                                                   office_path, overdue, deadline or NO_DEADLINE))
            active_member = status == "active" or result == "approved"
            for j, digest in enumerate(hashes):
                out["household_members"].append((self.ids["household_members"] + 2 * k + j, app_id, MATTER, digest,
                                                 active_member))
            out["events"].append((self.ids["events"] + k, app_id, self.owners[k % len(self.owners)], "citizen",
                                  "submitted", None, None, created, "网上提交", '{"channel":null}'))
            out["stage_clocks"].append((self.ids["stage_clocks"] + k, app_id, "*commitment", created.date(),
                                        created.date() + timedelta(days=126), "working", 90, running, None,
                                        stopped))
            out["review_markings"].append((self.ids["review_markings"] + k, app_id, "community_acceptance",
                                           "acceptance", self.tables.get("acceptance", ""), self.marking_json,
                                           "pass", self.reviewer, created))
        return out

    def run(self, progress: Callable[[int, int, float], None] | None = None) -> dict[str, int]:
        self.prepare()
        writer = Writer(self.db.engine)
        columns = {"applications": APP_COLUMNS, "household_members": MEMBER_COLUMNS, "events": EVENT_COLUMNS,
                   "stage_clocks": CLOCK_COLUMNS, "review_markings": MARKING_COLUMNS,
                   "application_stages": STAGE_COLUMNS}
        counts = dict.fromkeys(columns, 0)
        started = time.perf_counter()
        for start in _batches(self.n, BATCH):
            count = min(BATCH, self.n - start)
            rows = self.rows(start, count)
            for table in columns:  # parents first: foreign keys hold at every commit
                writer.write(table, columns[table], rows[table])
                counts[table] += len(rows[table])
            if progress:
                progress(start + count, self.n, time.perf_counter() - started)
        self.finish()
        return counts

    def finish(self) -> None:
        """Sequences past the given ids (PostgreSQL); statistics as a running deployment has them."""
        if self.db.kind == "postgresql":
            with self.db.engine.begin() as conn:
                for table in ("applications", "household_members", "events", "stage_clocks", "review_markings",
                              "accounts", "application_stages"):
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
            # autovacuum would analyze the freshly loaded tables on its own; do it now, deterministically
            with self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))


def _batches(n: int, size: int) -> Iterator[int]:
    return iter(range(0, n, size))


__all__ = ["ACTIVE_STAGES", "Filler", "Writer"]
