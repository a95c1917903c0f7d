"""The reviewer's queue: applications the signed-in account may act on now.

An application is in an account's queue when it is active, not waiting for
the citizen, and one of its current stages is owned by a role the account
holds, at an office whose level is the stage owner's level and whose path
covers the application's office path (same pack).

Which stage ids a (pack, role, level) owns is read in Python from every
workflow version of the pack (the `pack_versions` rows applications pinned,
plus the pack's current workflow files); the queue itself is then one SQL
query. Order: overdue first, then earliest deadline (none last), then id.
Pagination is keyset on (overdue, deadline, id), never OFFSET.

A page reads the stage projection in the order of its index
`ix_app_stage_order` (pack, stage, overdue DESC, due, application id): one
`LIMIT n+1` range per (reach, owned stage), merged in one statement, so the
cost of a page does not grow with the history in reach. The cursor seeks
(`overdue = …` and `(due, id) > …` are index bounds), so neither does it
grow with how deep the page is. The application rows are then fetched by
id without their sealed form data, which a queue page never shows (it
stays deferred; reading `app.data` loads it).

Per request the account's assignments and the pinned workflow hashes are
read (one statement); what they own is computed once per distinct key, and
each page's statement is built once per (reach, filters, range) with the
cursor's values bound.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    exists,
    false,
    null,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, defer

from formflow.auth.jurisdiction import under
from formflow.db.models import (
    NO_DEADLINE,
    Account,
    Application,
    ApplicationStage,
    Event,
    Office,
    PackVersion,
    RoleAssignment,
)
from formflow.packs.inherit import children_of, lineage
from formflow.workflow.spec import WorkflowSpec, cached_spec, spec_for

ACTIVE = "active"
AWAITING_CITIZEN = "citizen"
MAX_LIMIT = 100


@dataclass(frozen=True)
class Reach:
    """One role the account holds at one office, and the stage ids it owns in that pack."""

    pack: str
    role: str
    office_id: str
    office_path: str
    level: str
    stages: frozenset[str]
    #: (matter, stage) pairs the pack's `read_ahead` grants this role: it reads an application of that
    #: matter from the day it is at that stage (or history shows it was), before it reaches its own stages.
    ahead: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Filters:
    stage: str | None = None
    category: str | None = None
    channel: str | None = None
    overdue: bool | None = None

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        def text(name: str) -> str | None:
            value = (args.get(name) or "").strip()
            return value[:64] or None

        flag = (args.get("overdue") or "").strip()
        return cls(stage=text("stage"), category=text("category"), channel=text("channel"),
                   overdue=True if flag in ("1", "yes", "true") else False if flag in ("0", "no") else None)

    def as_args(self) -> dict[str, str]:
        out = {k: v for k, v in (("stage", self.stage), ("category", self.category),
                                  ("channel", self.channel)) if v}
        if self.overdue is not None:
            out["overdue"] = "1" if self.overdue else "0"
        return out


@dataclass
class Page:
    items: list[Application]
    next_cursor: str | None
    reach: list[Reach] = field(default_factory=list)


# --------------------------------------------------------------------------- workflows of a pack

#: id(doc) -> (doc, content hash) of the packs' current workflow files (a loaded doc never changes).
_FILE_HASHES: dict[int, tuple[Any, str]] = {}


def _file_hash(doc: Any) -> str:
    found = _FILE_HASHES.get(id(doc))
    if found is None or found[0] is not doc:
        from formflow.packs.versions import content_hash

        found = _FILE_HASHES[id(doc)] = (doc, content_hash(doc.content))
    return found[1]


def workflow_specs(session: Session, pack: str, packset: Any = None) -> list[WorkflowSpec]:
    """Every workflow version of `pack`: those applications pinned, and the current files.

    Pinned versions are looked up by hash (their content is read only for a
    version this process has not parsed yet); the current files are hashed
    once per loaded file, not per request.
    """
    digests = session.scalars(select(PackVersion.hash).where(PackVersion.pack == pack,
                                                             PackVersion.kind == "workflow")).all()
    return _specs(session, pack, digests, packset)


def _specs(session: Session, pack: str, digests: Sequence[str], packset: Any) -> list[WorkflowSpec]:
    """The specs of the pinned `digests` of `pack` (parsed once per process), then of its current files."""
    specs: dict[str, WorkflowSpec] = {}
    for digest in digests:
        cached = cached_spec(digest)
        if cached is not None:
            specs[digest] = cached
    missing = [d for d in digests if d not in specs]
    if missing:
        for digest, content in session.execute(select(PackVersion.hash, PackVersion.content).where(
                PackVersion.pack == pack, PackVersion.kind == "workflow", PackVersion.hash.in_(missing))).all():
            specs[digest] = spec_for(digest, content)
    found = getattr(packset, "packs", {}).get(pack) if packset is not None else None
    if found is not None:
        for matter in found.matters.values():
            doc = getattr(matter, "workflow", None)
            if doc is not None and doc.content:
                digest = _file_hash(doc)
                if digest not in specs:
                    specs[digest] = spec_for(digest, doc.content)
    return list(specs.values())


def owned_stages(specs: Iterable[WorkflowSpec], role: str, level: str) -> frozenset[str]:
    return frozenset(
        stage.id
        for spec in specs
        for stage in spec.stages.values()
        if stage.owner is not None and stage.owner.role == role and stage.owner.level == level
    )


def read_ahead(packset: Any, pack: str, role: str, level: str) -> frozenset[tuple[str, str]]:
    """(matter, stage) pairs from which `role` at an office of `level` reads early (workflow `read_ahead`).

    Read from the pack's current workflow files, not from the versions applications pinned: a grant
    is the pack's present policy, so adding or removing one applies to applications in flight at once.
    A grant holds for a role at the level(s) where the role owns a stage of that workflow.
    """
    found = getattr(packset, "packs", {}).get(pack) if packset is not None else None
    if found is None:
        return frozenset()
    out: set[tuple[str, str]] = set()
    for matter in found.matters.values():
        doc = getattr(matter, "workflow", None)
        content: dict[str, Any] = doc.content if doc is not None and isinstance(doc.content, dict) else {}
        grants = content.get("read_ahead") or []
        if not grants or not isinstance(grants, list):
            continue
        levels = {(s.get("owner") or {}).get("level") for s in (content.get("stages") or {}).values()
                  if isinstance(s, dict) and isinstance(s.get("owner"), dict) and s["owner"].get("role") == role}
        if level not in levels:
            continue
        for grant in grants:
            if isinstance(grant, dict) and role in (grant.get("roles") or []) and isinstance(grant.get("from"), str):
                out.add((str(matter.id), grant["from"]))
    return frozenset(out)


def _held() -> Any:
    """The account's role assignments at an office (inner join: a role held at no office reaches nothing)."""
    return (select(RoleAssignment.id, RoleAssignment.role, Office.id.label("office"), Office.pack, Office.path,
                   Office.level)
            .join(Office, Office.id == RoleAssignment.office_id)
            .where(RoleAssignment.account_id == bindparam("account")))


def _reach_rows() -> Any:
    """One statement: the assignments (hash NULL), then the pinned workflow hashes (only pack and hash set)
    of the packs of their offices and of every pack that extends another (`extending`, bound)."""
    held = _held().subquery()
    text_null, int_null = cast(null(), String(64)), cast(null(), Integer)
    assigned = select(held.c.id, held.c.role, held.c.office, held.c.pack, held.c.path, held.c.level, text_null)
    pinned = select(int_null, text_null, text_null, PackVersion.pack, text_null, text_null, PackVersion.hash).where(
        PackVersion.kind == "workflow",
        or_(PackVersion.pack.in_(select(held.c.pack)), PackVersion.pack.in_(bindparam("extending", expanding=True))))
    return union_all(assigned, pinned)


_REACH_ROWS = _reach_rows()
#: Reach lists by everything they are computed from (assignments, pinned and current workflow hashes).
_REACH: dict[tuple[Any, ...], tuple[Reach, ...]] = {}
_REACH_MAX = 1024


def _served(packset: Any, pack: str) -> tuple[str, ...]:
    """The office's pack, and the packs extending it (packs.inherit): they share its offices."""
    if not getattr(packset, "packs", None):
        return (pack,)
    return (pack, *(p.id for p in children_of(packset, pack)))


#: (packset, ids of its packs that extend another) of the last pack set asked about.
_EXTENDING: list[tuple[Any, list[str]]] = []


def _extending(packset: Any) -> list[str]:
    """The packs of `packset` that extend another: they may serve offices of the pack they extend."""
    if not getattr(packset, "packs", None):
        return []
    entry = _EXTENDING[0] if _EXTENDING else None  # read once: another thread may replace it
    if entry is None or entry[0] is not packset:
        entry = (packset, sorted(p.id for p in packset.packs.values() if lineage(p.manifest.content)))
        _EXTENDING[:] = [entry]
    return entry[1]


def _current_files(packset: Any, pack: str) -> tuple[tuple[str, str], ...]:
    """(matter, content hash) of the pack's current workflow files (what `read_ahead` and specs read)."""
    found = getattr(packset, "packs", {}).get(pack) if packset is not None else None
    if found is None:
        return ()
    return tuple((str(m.id), _file_hash(m.workflow)) for m in found.matters.values()
                 if getattr(m, "workflow", None) is not None and m.workflow.content)


def reach_of(session: Session, account: Account | int, packset: Any = None) -> list[Reach]:
    """The account's (role, office) pairs that own at least one stage of their pack.

    One statement a request (the account's assignments and the pinned
    workflow hashes of their packs), read fresh; the stages each pair owns are then
    computed once per distinct set of assignments, pinned hashes and current
    workflow files, so a grant, a revocation or a new workflow version
    changes the key and is seen at once.
    """
    account_id = account if isinstance(account, int) else account.id
    held: list[tuple[Any, ...]] = []
    pinned: dict[str, set[str]] = {}
    for n, role, office, pack, path, level, digest in session.execute(
            _REACH_ROWS, {"account": account_id, "extending": _extending(packset)}):
        if digest is None:
            held.append((n, role, office, pack, path, level))
        else:
            pinned.setdefault(pack, set()).add(digest)
    if not held:
        return []
    rows = tuple(row[1:] for row in sorted(held))  # in the order the roles were granted
    served = {pack: _served(packset, pack) for pack in dict.fromkeys(row[2] for row in rows)}
    packs = sorted({p for group in served.values() for p in group})
    key = (rows, tuple(served.items()),
           tuple((p, frozenset(pinned.get(p, ())), _current_files(packset, p)) for p in packs))
    found = _REACH.get(key)
    if found is None:
        found = _compute_reach(session, rows, served, pinned, packset)
        if len(_REACH) >= _REACH_MAX:
            _REACH.clear()
        _REACH[key] = found
    return list(found)


def _compute_reach(session: Session, rows: Sequence[tuple[Any, ...]], served: dict[str, tuple[str, ...]],
                   pinned: dict[str, set[str]], packset: Any) -> tuple[Reach, ...]:
    cache: dict[str, list[WorkflowSpec]] = {}
    out: list[Reach] = []
    for role, office_id, office_pack, office_path, level in rows:
        for pack in served[office_pack]:
            if pack not in cache:
                cache[pack] = _specs(session, pack, sorted(pinned.get(pack, ())), packset)
            stages = owned_stages(cache[pack], role, level)
            if stages:
                out.append(Reach(pack, role, office_id, office_path, level, stages,
                                 read_ahead(packset, pack, role, level)))
    return tuple(out)


# --------------------------------------------------------------------------- SQL pieces

def stage_in(session: Session, stage_ids: Sequence[str]) -> ColumnElement[bool]:
    """The application is at one of `stage_ids` (any of its parallel stages).

    Reads the queue projection `application_stages` (one row per current
    stage, indexed by stage and office path), never the JSON list.
    """
    return _at_stages(stage_ids)


def _at_stages(stage_ids: Sequence[str]) -> ColumnElement[bool]:
    ids = sorted(set(stage_ids))
    if not ids:
        return false()
    return Application.id.in_(select(ApplicationStage.application_id).where(ApplicationStage.stage.in_(ids)))


def reach_clause(session: Session, reach: Sequence[Reach], *, current_only: bool = True) -> ColumnElement[bool]:
    """Applications under the offices of `reach` (and, by default, at a stage they own).

    With `current_only`, one semi-join on the projection: an index range on
    (stage, office_path) per reach, then primary-key look-ups.
    """
    if not reach:
        return false()
    if current_only:
        owned = [
            and_(ApplicationStage.pack == r.pack, ApplicationStage.stage.in_(sorted(r.stages)),
                 under(ApplicationStage.office_path, r.office_path))
            for r in reach
        ]
        return Application.id.in_(select(ApplicationStage.application_id).where(or_(*owned)))
    return or_(*(and_(Application.pack == r.pack, under(Application.office_path, r.office_path)) for r in reach))


# --------------------------------------------------------------------------- cursor

def encode_cursor(app: Application) -> str:
    return _encode((bool(app.overdue), app.deadline or NO_DEADLINE, app.id))


def _encode(key: tuple[bool, date, int]) -> str:
    raw = json.dumps([1 if key[0] else 0, key[1].isoformat(), key[2]])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[bool, date, int] | None:
    """(overdue, deadline, id) of the last row shown, or None for a cursor that is not ours."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        overdue, deadline, app_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return bool(overdue), date.fromisoformat(str(deadline)), int(app_id)
    except (ValueError, TypeError):
        return None


# --------------------------------------------------------------------------- the queue

def queue_query(session: Session, reach: Sequence[Reach], filters: Filters | None = None):
    """Every application of the queue, unordered (for counts and checks; pages use `queue_page`)."""
    filters = filters or Filters()
    query = select(Application).where(
        Application.status == ACTIVE,
        or_(Application.awaiting.is_(None), Application.awaiting != AWAITING_CITIZEN),
        reach_clause(session, reach),
    )
    if filters.stage:
        query = query.where(stage_in(session, [filters.stage]))
    if filters.category:
        query = query.where(Application.category == filters.category)
    if filters.channel:
        query = query.where(Application.channel == filters.channel)
    if filters.overdue is True:
        query = query.where(Application.overdue.is_(True))
    elif filters.overdue is False:
        query = query.where(Application.overdue.is_(False))
    return query


#: The cursor's deadline and id, bound when a page is read (the statement itself is built once).
_AFTER_DUE: BindParameter[date] = bindparam("after_due", type_=Date)
_AFTER_ID: BindParameter[int] = bindparam("after_id", type_=Integer)


#: One range of a page: the overdue value it reads (None: both, in index order) and whether it starts
#: after the cursor (else at the start of that value).
Part = tuple[bool | None, bool]


def _phases(after: bool | None) -> tuple[Part, ...]:
    """The ranges a page reads per owned stage, in order, by whether the cursor's row is overdue.

    Each is one index range (`overdue =`, then `(due, id) >` the cursor's): the cursor seeks, it is
    not a filter, so a page deep in the queue reads no more of the index than the first one. After an
    overdue cursor the rest of the overdue rows come first; the rows not overdue are read (a second
    statement) only when those do not fill the page.
    """
    if after is None:
        return ((None, False),)
    if after:
        return ((True, True), (False, False))
    return ((False, True),)


def _row_after() -> ColumnElement[bool]:
    """Projection rows after the cursor's (due, id) in index order, for one overdue value."""
    row = ApplicationStage
    return tuple_(row.due, row.application_id) > tuple_(_AFTER_DUE, _AFTER_ID)


def _overdue_is(value: bool) -> ColumnElement[bool]:
    """`overdue = value` (an equality the index seeks on; the column is never NULL)."""
    return ApplicationStage.overdue == (true() if value else false())


def _range(r: Reach, stage: str, filters: Filters, part: Part, n: int) -> Any:
    """The first `n` rows of one owned stage under one office, in index order, with the page's filters."""
    row = ApplicationStage
    query = (
        select(row.overdue, row.due, row.application_id)
        .join(Application, Application.id == row.application_id)
        .where(row.pack == r.pack, row.stage == stage, under(row.office_path, r.office_path),
               Application.status == ACTIVE,
               or_(Application.awaiting.is_(None), Application.awaiting != AWAITING_CITIZEN))
    )
    if filters.stage and filters.stage != stage:  # at the filtered stage too (a parallel branch)
        query = query.where(_at_stages([filters.stage]))
    if filters.category:
        query = query.where(Application.category == filters.category)
    if filters.channel:
        query = query.where(Application.channel == filters.channel)
    if filters.overdue is not None:
        query = query.where(_overdue_is(filters.overdue))
    overdue, bounded = part
    if overdue is not None and overdue is not filters.overdue:
        query = query.where(_overdue_is(overdue))
    if bounded:
        query = query.where(_row_after())
    return query.order_by(row.overdue.desc(), row.due.asc(), row.application_id.asc()).limit(n)


#: Page statements by (reach, filters, range, n): built once, the cursor's values bound per page.
_STATEMENTS: dict[tuple[Any, ...], Any] = {}
_STATEMENTS_MAX = 512
_NOT_BUILT = object()


def _statement(reach: tuple[Reach, ...], filters: Filters, part: Part, n: int) -> Any:
    """The one statement reading `part` of every (reach, owned stage) (None when nothing is owned)."""
    key = (reach, filters, part, n)
    found = _STATEMENTS.get(key, _NOT_BUILT)
    if found is not _NOT_BUILT:
        return found
    ranges = [_range(r, stage, filters, part, n) for r in reach for stage in sorted(r.stages)]
    statement: Any = None
    if len(ranges) == 1:
        statement = ranges[0]
    elif ranges:
        statement = union_all(*(select(*sub.c) for sub in (q.subquery() for q in ranges)))
    if len(_STATEMENTS) >= _STATEMENTS_MAX:
        _STATEMENTS.clear()
    _STATEMENTS[key] = statement
    return statement


def _first_rows(session: Session, reach: Sequence[Reach], filters: Filters,
                cursor: tuple[bool, date, int] | None, n: int) -> list[tuple[bool, date, int]]:
    """(overdue, due, id) of the first `n` applications of the queue after `cursor`.

    One statement (two on the page where the overdue rows end). Each
    (reach, stage) range reads at most `n` rows in index order; the ranges
    are merged here. An application at two owned stages (parallel branches)
    comes once: the first `n` distinct ids are among the rows read, since
    each range holds distinct ids. Every row of a phase sorts before every
    row of the next (overdue first), so phases are appended in order.
    """
    params = {} if cursor is None else {"after_due": cursor[1], "after_id": cursor[2]}
    seen: set[int] = set()
    out: list[tuple[bool, date, int]] = []
    for part in _phases(None if cursor is None else cursor[0]):
        statement = _statement(tuple(reach), filters, part, n)
        if statement is None:
            return []
        rows = sorted(((bool(o), d, int(i)) for o, d, i in session.execute(statement, params)),
                      key=lambda t: (not t[0], t[1], t[2]))
        for key in rows:
            if key[2] not in seen:
                seen.add(key[2])
                out.append(key)
        if len(out) >= n:
            break
    return out[:n]


#: A page's applications by id, without what a queue page never shows: the sealed form data, the
#: household's identity hashes, the stages' arrival record (deferred: reading one loads it).
_ITEMS = select(Application).where(Application.id.in_(bindparam("ids", expanding=True))).options(
    defer(Application.data), defer(Application.household_hashes), defer(Application.arrived))


def queue_page(
    session: Session,
    account: Account | int,
    *,
    filters: Filters | None = None,
    after: str | None = None,
    limit: int = 20,
    packset: Any = None,
) -> Page:
    """One page of the account's queue; `after` is the `next_cursor` of the previous page."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    reach = reach_of(session, account, packset)
    if not reach:
        return Page([], None, reach)
    keys = _first_rows(session, reach, filters or Filters(), decode_cursor(after), limit + 1)
    more = len(keys) > limit
    keys = keys[:limit]
    if not keys:
        return Page([], None, reach)
    loaded = {app.id: app for app in session.scalars(_ITEMS, {"ids": [k[2] for k in keys]})}
    items = [loaded[k[2]] for k in keys if k[2] in loaded]
    return Page(items, _encode(keys[-1]) if more else None, reach)


def in_reach(session: Session, app_id: int, reach: Sequence[Reach]) -> bool:
    """Whether the application lies under one of the account's offices, in a pack it reviews,
    and has reached one of the stages they own (need to know: a higher office reads it from the
    day it arrives there, never while it is still at the community), or a stage from which the
    pack's `read_ahead` lets their role read it early (`Reach.ahead`).

    Broader than the queue: once reached it holds at any stage (history stays readable).
    The one check of reading: the desk, the API and file and notice serving all call it.
    """
    if not reach:
        return False
    found = session.scalar(
        select(Application.id).where(Application.id == app_id, Application.status != "draft",
                                     or_(*(and_(Application.pack == r.pack,
                                                under(Application.office_path, r.office_path),
                                                or_(_reached(r.stages), *_ahead(r.ahead))) for r in reach)))
    )
    return found is not None


def _ahead(pairs: frozenset[tuple[str, str]]) -> list[ColumnElement[bool]]:
    """Per matter granted: the application is of that matter and has reached a granted stage."""
    by_matter: dict[str, set[str]] = {}
    for matter, stage in pairs:
        by_matter.setdefault(matter, set()).add(stage)
    return [and_(Application.matter == matter, _reached(frozenset(stages)))
            for matter, stages in sorted(by_matter.items())]


def _reached(stages: frozenset[str]) -> ColumnElement[bool]:
    """The application is at one of `stages` now, or history shows it was (moved to or acted at)."""
    ids = sorted(stages)
    now = exists().where(ApplicationStage.application_id == Application.id, ApplicationStage.stage.in_(ids))
    then = exists().where(Event.application_id == Application.id,
                          or_(Event.to_stage.in_(ids), Event.from_stage.in_(ids)))
    return or_(now, then)


__all__ = [
    "Filters", "Page", "Reach", "decode_cursor", "encode_cursor", "in_reach", "queue_page",
    "reach_of", "read_ahead", "stage_in",
]
