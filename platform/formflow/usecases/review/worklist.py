"""The reviewer's queue: one page of what they may act on now, and what it may be filtered by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.db.models import Account, Office
from formflow.packs.versions import Pinned, load_pinned
from formflow.reviews import queue as queue_mod
from formflow.text.catalogue import _
from formflow.usecases.review.reach import StageRef, masked_id, reach, spec_of, stage_refs
from formflow.workflow.spec import WorkflowSpec

PAGE_SIZE = 20


@dataclass(frozen=True)
class PageRequest:
    """Keyset pagination: `after` is the previous page's `next_cursor`."""

    after: str | None = None
    limit: int = PAGE_SIZE


@dataclass(frozen=True)
class QueueRow:
    """One application in a reviewer's queue, with every title already looked up."""

    id: int
    number: str
    pack: str
    matter: str
    applicant: str
    id_masked: str
    category: str | None
    category_title: str
    channel: str | None
    channel_title: str
    stages: tuple[StageRef, ...]
    office_id: str | None
    office_name: str
    submitted_at: datetime | None
    deadline: date | None
    overdue: bool
    version: int

    @property
    def stage_titles(self) -> str:
        return _(", ").join(s.title for s in self.stages)


@dataclass(frozen=True)
class QueueResult:
    rows: list[QueueRow]
    next_cursor: str | None


@dataclass(frozen=True)
class FilterOptions:
    """What the queue may be filtered by: (value, title) pairs."""

    stages: list[tuple[str, str]]
    categories: list[tuple[str, str]]
    channels: list[tuple[str, str]]


def queue(services: Any, db: Session, actor: Account, filters: queue_mod.Filters | None,
          page: PageRequest | None = None) -> QueueResult:
    """One page of what the actor may act on now: overdue first, then earliest deadline, then id."""
    page = page or PageRequest()
    found = queue_mod.queue_page(db, actor.id, filters=filters, after=page.after, limit=page.limit,
                                 packset=services.packs)
    people = {a.id: a for a in db.scalars(
        select(Account).where(Account.id.in_({app.applicant_id for app in found.items})))} if found.items else {}
    office_ids = {a.office_id for a in found.items if a.office_id}
    offices = {o.id: o for o in db.scalars(select(Office).where(Office.id.in_(office_ids)))} if office_ids else {}
    rows = []
    pins: dict[str, tuple[Pinned, WorkflowSpec]] = {}  # rows of one page mostly share their pinned versions
    for app in found.items:
        pinned, spec = _pinned_spec(db, app.versions, pins)
        who = people.get(app.applicant_id)
        masked = masked_id(services, who)
        office = offices.get(app.office_id) if app.office_id else None
        rows.append(QueueRow(
            id=app.id, number=app.number or str(app.id), pack=app.pack, matter=app.matter,
            applicant=who.display_name if who else "", id_masked=masked,
            category=app.category, category_title=pinned.category_title(app.category),
            channel=app.channel, channel_title=pinned.channel_title(app.channel),
            stages=stage_refs(spec, app.stages), office_id=app.office_id, office_name=office.name if office else "",
            submitted_at=app.submitted_at, deadline=app.deadline, overdue=bool(app.overdue), version=app.version,
        ))
    return QueueResult(rows, found.next_cursor)


def _pinned_spec(db: Session, versions: dict[str, Any],
                 seen: dict[str, tuple[Pinned, WorkflowSpec]]) -> tuple[Pinned, WorkflowSpec]:
    """The pinned documents and workflow of `versions`, looked up once per distinct versions of a page."""
    key = repr(versions)
    found = seen.get(key)
    if found is None:
        pinned = load_pinned(db, versions)
        found = seen[key] = (pinned, spec_of(pinned))
    return found


def queue_filters(services: Any, db: Session, actor: Account) -> FilterOptions:
    """Stages the actor owns, and the categories and channels of the packs they review."""
    stages: dict[str, str] = {}
    categories: dict[str, str] = {}
    channels: dict[str, str] = {}
    packset = services.packs
    for r in reach(services, db, actor):
        for spec in queue_mod.workflow_specs(db, r.pack, packset):
            for sid in sorted(r.stages):
                if sid in spec.stages:
                    stages.setdefault(sid, spec.stages[sid].title)
        pack = packset.packs.get(r.pack)
        if pack is None:
            continue
        for entry in pack.manifest.content.get("channels") or []:
            channels.setdefault(str(entry.get("id")), str(entry.get("title") or entry.get("id")))
        for matter in pack.matters.values():
            mats = matter.materials.content if matter.materials else {}
            for cid, cat in (mats.get("categories") or {}).items():
                categories.setdefault(cid, str(cat.get("title") or cid))
    return FilterOptions(list(stages.items()), list(categories.items()), list(channels.items()))
