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
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, exists, false, func, literal, or_, select
from sqlalchemy.orm import Session

from formflow.auth.jurisdiction import under
from formflow.db.models import Account, Application, ApplicationStage, Event, PackVersion
from formflow.workflow.access import assignments
from formflow.workflow.spec import WorkflowSpec, spec_for

ACTIVE = "active"
AWAITING_CITIZEN = "citizen"
#: Stands in for "no deadline" so that those sort last on every database.
NO_DEADLINE = date(9999, 12, 31)
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

def workflow_specs(session: Session, pack: str, packset: Any = None) -> list[WorkflowSpec]:
    """Every workflow version of `pack`: those applications pinned, and the current files."""
    specs: dict[str, WorkflowSpec] = {}
    rows = session.execute(
        select(PackVersion.hash, PackVersion.content).where(PackVersion.pack == pack,
                                                            PackVersion.kind == "workflow")
    ).all()
    for digest, content in rows:
        specs[digest] = spec_for(digest, content)
    found = getattr(packset, "packs", {}).get(pack) if packset is not None else None
    if found is not None:
        from formflow.packs.versions import content_hash

        for matter in found.matters.values():
            doc = getattr(matter, "workflow", None)
            if doc is not None and doc.content:
                digest = content_hash(doc.content)
                specs.setdefault(digest, spec_for(digest, doc.content))
    return list(specs.values())


def owned_stages(specs: Iterable[WorkflowSpec], role: str, level: str) -> frozenset[str]:
    return frozenset(
        stage.id
        for spec in specs
        for stage in spec.stages.values()
        if stage.owner is not None and stage.owner.role == role and stage.owner.level == level
    )


def reach_of(session: Session, account: Account | int, packset: Any = None) -> list[Reach]:
    """The account's (role, office) pairs that own at least one stage of their pack."""
    account_id = account if isinstance(account, int) else account.id
    rows = [(role, office) for role, office in assignments(session, account_id) if office is not None]
    cache: dict[str, list[WorkflowSpec]] = {}
    out: list[Reach] = []
    for role, office in rows:
        if office.pack not in cache:
            cache[office.pack] = workflow_specs(session, office.pack, packset)
        stages = owned_stages(cache[office.pack], role, office.level)
        if stages:
            out.append(Reach(office.pack, role, office.id, office.path, office.level, stages))
    return out


# --------------------------------------------------------------------------- SQL pieces

def stage_in(session: Session, stage_ids: Sequence[str]) -> ColumnElement[bool]:
    """The application is at one of `stage_ids` (any of its parallel stages).

    Reads the queue projection `application_stages` (one row per current
    stage, indexed by stage and office path), never the JSON list.
    """
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


def _deadline_key():
    return func.coalesce(Application.deadline, literal(NO_DEADLINE, Date))


# --------------------------------------------------------------------------- cursor

def encode_cursor(app: Application) -> str:
    raw = json.dumps([1 if app.overdue else 0, (app.deadline or NO_DEADLINE).isoformat(), app.id])
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


def _after(cursor: tuple[bool, date, int]) -> ColumnElement[bool]:
    overdue, deadline, app_id = cursor
    key = _deadline_key()
    later = or_(key > deadline, and_(key == deadline, Application.id > app_id))
    if overdue:
        return or_(Application.overdue.is_(False), and_(Application.overdue.is_(True), later))
    return and_(Application.overdue.is_(False), later)


# --------------------------------------------------------------------------- the queue

def queue_query(session: Session, reach: Sequence[Reach], filters: Filters | None = None):
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
    query = queue_query(session, reach, filters)
    cursor = decode_cursor(after)
    if cursor is not None:
        query = query.where(_after(cursor))
    query = query.order_by(
        Application.overdue.desc(),
        _deadline_key().asc(),
        Application.id.asc(),
    ).limit(limit + 1)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    items = rows[:limit]
    return Page(items, encode_cursor(items[-1]) if more and items else None, reach)


def in_reach(session: Session, app_id: int, reach: Sequence[Reach]) -> bool:
    """Whether the application lies under one of the account's offices, in a pack it reviews,
    and has reached one of the stages they own (need to know: a higher office reads it from the
    day it arrives there, never while it is still at the community).

    Broader than the queue: once reached it holds at any stage (history stays readable).
    """
    if not reach:
        return False
    found = session.scalar(
        select(Application.id).where(Application.id == app_id, Application.status != "draft",
                                     or_(*(and_(Application.pack == r.pack,
                                                under(Application.office_path, r.office_path),
                                                _reached(r.stages)) for r in reach)))
    )
    return found is not None


def _reached(stages: frozenset[str]) -> ColumnElement[bool]:
    """The application is at one of `stages` now, or history shows it was (moved to or acted at)."""
    ids = sorted(stages)
    now = exists().where(ApplicationStage.application_id == Application.id, ApplicationStage.stage.in_(ids))
    then = exists().where(Event.application_id == Application.id,
                          or_(Event.to_stage.in_(ids), Event.from_stage.in_(ids)))
    return or_(now, then)


__all__ = [
    "Filters", "Page", "Reach", "decode_cursor", "encode_cursor", "in_reach", "queue_page",
    "reach_of", "stage_in",
]
