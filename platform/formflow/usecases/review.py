"""Reviewing: the queue, marking a stage's table, the actions on offer, taking one, objections.

One function per thing a reviewer does; the desk (`web/desk.py`) and the API
(`api/views_review.py`) only parse input, call these and render the result.

Reach: a reviewer sees an application only when it lies under one of the
offices where they hold a role owning a stage of its pack's workflow
(`reviews.queue.reach_of`); anything else is refused as `NotInReach` (404),
the same on both channels. A stage is the reviewer's when it is current and
they hold its owner role at the owning office; marking another stage is
refused the same way.

Marking: rows of a table about a material this application neither requires
nor provided (`reviews.tables.not_applicable_rows`) are 不适用. Left blank
they are recorded as `na`; marked 符合 or 不符合 they are refused, naming the
row. Every change goes through the workflow engine or `record_marking`, in
the caller's transaction with its history event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.applications import drafts as apps
from formflow.db.models import Account, Application, Objection, Office
from formflow.packs.versions import Pinned, load_pinned
from formflow.reviews import queue as queue_mod
from formflow.reviews.tables import (
    FAIL,
    NA,
    PASS,
    VERDICT_TITLES,
    MarkingInvalid,
    latest_marking,
    marking_problems,
    marking_schema,
    normalise_marking,
    not_applicable_rows,
    record_marking,
    summarize,
)
from formflow.text.catalogue import _, lazy
from formflow.text.errors import FieldProblem, NotFound, Refusal
from formflow.text.formatting import mask_id
from formflow.workflow import engine
from formflow.workflow.access import authority
from formflow.workflow.errors import ActionNotAvailable, ReasonRequired
from formflow.workflow.moves import check_version, lock_or_fail
from formflow.workflow.spec import Stage, WorkflowSpec, spec_for

__all__ = [
    "VERDICTS", "ActionOffer", "Acted", "ActionsOffered", "AtHand", "FilterOptions", "MarkingForm", "Marked",
    "NoTable", "NotInReach", "ObjectionLine", "ObjectionNoteRequired", "PageRequest", "QueueResult", "QueueRow",
    "StageAtHand", "StageRef", "act", "available_actions", "dismiss_objection", "load", "mark", "marking_form",
    "queue", "queue_filters", "record_objection", "refusal_before_acting", "stages_at_hand",
]

PAGE_SIZE = 20
NOTE_MAX = 2000
#: Outcome of a marked table, as a person reads it.
OUTCOME_TITLES = {"pass": lazy("Pass"), "fail": lazy("Fail")}
#: The verdicts a criterion may get, (value, title), in the order they are offered.
VERDICTS = ((PASS, VERDICT_TITLES[0]), (FAIL, VERDICT_TITLES[1]), (NA, VERDICT_TITLES[2]))


# --------------------------------------------------------------------------- refusals


class NotInReach(NotFound):
    """The application does not exist, or lies outside the reviewer's offices (or the stage is not theirs)."""

    def __init__(self, app_id: int | None = None) -> None:
        self.application_id = app_id
        super().__init__(_("The application does not exist or is not within your remit."))


class NoTable(NotFound):
    """The stage marks no review table."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        super().__init__(_("This stage has no review table."))


class ObjectionNoteRequired(ReasonRequired):
    """An objection is recorded with what it says."""

    def __init__(self, stage: str) -> None:
        self.action = engine.RECORD_OBJECTION
        self.stage = stage
        message = _("Please write down the objection.")
        Refusal.__init__(self, message, fields=[FieldProblem("/note", message)], action=self.action, stage=stage)


# --------------------------------------------------------------------------- shapes


@dataclass(frozen=True)
class StageRef:
    id: str
    title: str


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


@dataclass(frozen=True)
class MarkingForm:
    """A stage's review table as the reviewer fills it in."""

    app_id: int
    version: int
    stage: StageRef
    table_id: str
    table_version: str
    table: dict[str, Any]
    schema: dict[str, Any]
    marking: dict[str, Any] | None
    outcome: str | None
    not_applicable: frozenset[str]


@dataclass(frozen=True)
class Marked:
    app_id: int
    stage: StageRef
    table_id: str
    outcome: str
    failed_rows: list[str]
    marking: dict[str, Any]

    @property
    def outcome_title(self) -> str:
        return str(OUTCOME_TITLES.get(self.outcome, self.outcome))


@dataclass(frozen=True)
class ActionOffer:
    """One action at one current stage the reviewer owns; `why_not` when the guard does not hold now."""

    stage: str
    stage_title: str
    action: str
    title: str
    allowed: bool
    why_not: str | None
    reason_required: bool
    correction: bool
    targets: tuple[str, ...]
    target_titles: tuple[str, ...]
    #: Taking it ends the application (a target is an end stage): a channel with people asks to confirm.
    irreversible: bool


@dataclass(frozen=True)
class ActionsOffered:
    app_id: int
    number: str
    version: int
    applicant: str
    id_masked: str
    actions: list[ActionOffer] = field(default_factory=list)

    def find(self, stage: str, action: str) -> ActionOffer | None:
        return next((a for a in self.actions if a.stage == stage and a.action == action), None)


@dataclass(frozen=True)
class ObjectionLine:
    """An objection recorded at a timer stage; open while `resolved_on` is None."""

    id: int
    raised_on: date
    note: str
    resolved_on: date | None
    upheld: bool | None
    resolution: str | None


@dataclass(frozen=True)
class StageAtHand:
    """One current stage the reviewer owns: its table, latest marking, actions on offer and objections."""

    id: str
    title: str
    is_timer: bool
    table_id: str | None
    table: dict[str, Any] | None
    marking: dict[str, Any] | None
    outcome: str | None
    actions: tuple[ActionOffer, ...]
    accepts_objections: bool
    objections: tuple[ObjectionLine, ...]
    #: Rows of the table about a material this application neither requires nor provided (only `na`).
    not_applicable: frozenset[str]

    @property
    def outcome_title(self) -> str:
        return str(OUTCOME_TITLES.get(self.outcome, self.outcome)) if self.outcome else ""


@dataclass(frozen=True)
class AtHand:
    """What the reviewer may do on one application now (the version their forms must carry)."""

    app_id: int
    version: int
    stages: tuple[StageAtHand, ...]
    #: Material kinds a correction request may name: (kind, title), as the pinned catalogue lists them.
    correction_materials: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Acted:
    """The application after an action, with the titles a person reads."""

    app_id: int
    number: str
    action: str
    action_title: str
    version: int
    status: str
    result: str | None
    awaiting: str | None
    deadline: date | None
    stages: tuple[StageRef, ...]
    event_id: int
    notices: tuple[engine.IssuedNotice, ...]

    @property
    def stage_titles(self) -> str:
        return _(", ").join(s.title for s in self.stages)


# --------------------------------------------------------------------------- reach


def _spec(pinned: Pinned) -> WorkflowSpec:
    return spec_for(pinned.versions["workflow"], pinned.workflow)


def _refs(spec: WorkflowSpec, stages: Sequence[str] | None) -> tuple[StageRef, ...]:
    return tuple(StageRef(s, spec.stages[s].title if s in spec.stages else s) for s in stages or ())


def reach(services: Any, db: Session, actor: Account) -> list[queue_mod.Reach]:
    """The (role, office) pairs of the actor that own stages of some pack."""
    return queue_mod.reach_of(db, actor.id, services.packs)


def load(services: Any, db: Session, actor: Account, app_id: int, *,
         within: Sequence[queue_mod.Reach] | None = None) -> Application:
    """The application, if it lies within the actor's reach (any stage: history stays readable).

    `within`: the actor's reach when the caller already has it.
    """
    if not queue_mod.in_reach(db, app_id, reach(services, db, actor) if within is None else within):
        raise NotInReach(app_id)
    app = db.get(Application, app_id)
    if app is None:
        raise NotInReach(app_id)
    return app


def _owned_stage(db: Session, app: Application, actor: Account, spec: WorkflowSpec, stage_id: str) -> Stage:
    """A current stage of the application the actor owns; `NotInReach` otherwise."""
    stage = spec.stages.get(stage_id)
    if (stage is None or stage.owner is None or app.status != "active" or stage_id not in (app.stages or [])
            or authority(db, app, actor, stage.owner.role, stage.owner.level) is None):
        raise NotInReach(app.id)
    return stage


def _attached(db: Session, actor: Account) -> Account:
    """The actor as an object of this session (the engine writes through it)."""
    found = db.get(Account, actor.id)
    if found is None:
        raise NotInReach()
    return found


def _masked_id(services: Any, who: Account | None) -> str:
    if who is None or not who.id_number_enc:
        return ""
    try:
        return mask_id(services.keys.open(who.id_number_enc))
    except Exception:  # noqa: BLE001 - an unreadable number is shown as absent
        return ""


def _applicant(services: Any, db: Session, app: Application) -> tuple[str, str]:
    """The applicant's name and masked ID number."""
    who = db.get(Account, app.applicant_id)
    return (who.display_name if who else ""), _masked_id(services, who)


# --------------------------------------------------------------------------- the queue


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
    for app in found.items:
        pinned = load_pinned(db, app.versions)
        spec = _spec(pinned)
        who = people.get(app.applicant_id)
        masked = _masked_id(services, who)
        office = offices.get(app.office_id) if app.office_id else None
        rows.append(QueueRow(
            id=app.id, number=app.number or str(app.id), pack=app.pack, matter=app.matter,
            applicant=who.display_name if who else "", id_masked=masked,
            category=app.category, category_title=pinned.category_title(app.category),
            channel=app.channel, channel_title=pinned.channel_title(app.channel),
            stages=_refs(spec, app.stages), office_id=app.office_id, office_name=office.name if office else "",
            submitted_at=app.submitted_at, deadline=app.deadline, overdue=bool(app.overdue), version=app.version,
        ))
    return QueueResult(rows, found.next_cursor)


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


# --------------------------------------------------------------------------- marking


def _not_applicable(services: Any, pinned: Pinned, app: Application, table: Mapping[str, Any]) -> frozenset[str]:
    try:
        items = apps.checklist(pinned, app.data or {}, services.today())
    except Exception:  # noqa: BLE001 - a checklist that cannot be worked out rules nothing out
        return frozenset()
    return not_applicable_rows(table, items, app.data or {})


def _table_of(db: Session, app: Application, stage: Stage) -> tuple[Pinned, dict[str, Any]]:
    if not stage.table:
        raise NoTable(stage.id)
    pinned = load_pinned(db, app.versions)
    table = pinned.table(stage.table)
    if table is None:
        raise NoTable(stage.id)
    return pinned, table


def marking_form(services: Any, db: Session, actor: Account, app_id: int, stage_id: str) -> MarkingForm:
    """The stage's table, the JSON Schema a marking must fit, the latest marking and the rows not applicable."""
    app = load(services, db, actor, app_id)
    pinned = load_pinned(db, app.versions)
    spec = _spec(pinned)
    stage = _owned_stage(db, app, actor, spec, stage_id)
    pinned, table = _table_of(db, app, stage)
    na = _not_applicable(services, pinned, app, table)
    latest = latest_marking(db, app.id, stage.id, stage.table or "")
    return MarkingForm(
        app_id=app.id, version=app.version, stage=StageRef(stage.id, stage.title), table_id=stage.table or "",
        table_version=str((app.versions.get("tables") or {}).get(stage.table, "")), table=table,
        schema=marking_schema(table, na), marking=latest.marking if latest else None,
        outcome=latest.outcome if latest else None, not_applicable=na,
    )


def mark(services: Any, db: Session, actor: Account, app_id: int, stage_id: str, marking: Any, *,
         expected_version: int | None = None) -> Marked:
    """Record a marking of the stage's table (with its `mark` event).

    Refuses (`MarkingInvalid`, 422, one field per problem, pointers relative to
    the marking) a gap, a 不符合 without its note, and 符合/不符合 on a row that
    is not applicable to this application; blanks on such rows become `na`.
    `expected_version` None skips the version check (a marking does not move
    the application); the row is locked so the stage cannot move meanwhile.
    """
    load(services, db, actor, app_id)
    app = lock_or_fail(db, app_id)
    pinned = load_pinned(db, app.versions)
    spec = _spec(pinned)
    if expected_version is not None:
        check_version(app, expected_version, spec)
    stage = _owned_stage(db, app, actor, spec, stage_id)
    pinned, table = _table_of(db, app, stage)
    na = _not_applicable(services, pinned, app, table)
    filled = normalise_marking(table, marking, na)
    problems = marking_problems(table, filled, na)
    if problems:
        raise MarkingInvalid(stage.table or "", problems, marking=filled)
    saved = record_marking(db, app, stage.id, stage.table or "", filled, _attached(db, actor), pinned,
                           not_applicable=na)
    summary = summarize(saved.marking)
    return Marked(app.id, StageRef(stage.id, stage.title), stage.table or "", saved.outcome, summary.failed_rows,
                  saved.marking)


# --------------------------------------------------------------------------- actions


def available_actions(services: Any, db: Session, actor: Account, app_id: int) -> ActionsOffered:
    """Every action of every current stage the actor owns, whether it may be taken now, and why not."""
    app = load(services, db, actor, app_id)
    pinned = load_pinned(db, app.versions)
    spec = _spec(pinned)
    found = engine.available_actions(db, app, _attached(db, actor), today=services.today())
    offers = []
    for a in found:
        ends = tuple(t for t in a.targets if t in spec.stages and spec.stages[t].is_end)
        offers.append(ActionOffer(
            stage=a.stage, stage_title=a.stage_title, action=a.action, title=a.title, allowed=a.allowed,
            why_not=a.why_not, reason_required=a.reason_required, correction=a.correction, targets=tuple(a.targets),
            target_titles=tuple(spec.stages[t].title for t in a.targets if t in spec.stages),
            irreversible=bool(ends),
        ))
    name, masked = _applicant(services, db, app)
    return ActionsOffered(app.id, app.number or str(app.id), app.version, name, masked, offers)


def stages_at_hand(services: Any, db: Session, actor: Account, app_id: int) -> AtHand:
    """Every current stage the actor owns, with its table, latest marking, actions on offer and objections."""
    app = load(services, db, actor, app_id)
    pinned = load_pinned(db, app.versions)
    spec = _spec(pinned)
    offered = available_actions(services, db, actor, app_id)
    out = []
    for stage_id in app.stages or []:
        try:
            stage = _owned_stage(db, app, actor, spec, stage_id)
        except NotInReach:
            continue
        table = pinned.table(stage.table) if stage.table else None
        latest = latest_marking(db, app.id, stage.id, stage.table) if stage.table and table is not None else None
        objections = tuple(ObjectionLine(o.id, o.raised_on, o.note, o.resolved_on, o.upheld, o.resolution)
                           for o in db.scalars(select(Objection).where(
                               Objection.application_id == app.id, Objection.stage == stage.id).order_by(Objection.id)))
        out.append(StageAtHand(
            id=stage.id, title=stage.title, is_timer=stage.is_timer, table_id=stage.table, table=table,
            marking=latest.marking if latest else None, outcome=latest.outcome if latest else None,
            actions=tuple(a for a in offered.actions if a.stage == stage.id),
            accepts_objections=stage.is_timer and stage.objections, objections=objections,
            not_applicable=_not_applicable(services, pinned, app, table) if table is not None else frozenset(),
        ))
    kinds = pinned.materials.get("kinds") or {}
    return AtHand(app.id, app.version, tuple(out),
                  tuple((str(k), str((v or {}).get("title") or k)) for k, v in kinds.items()))


def refusal_before_acting(offer: ActionOffer | None, note: str | None) -> Refusal | None:
    """What `act` would refuse about the note alone (asked before a confirmation page is shown)."""
    if offer is not None and offer.allowed and offer.reason_required and not (note or "").strip():
        return ReasonRequired(offer.action, offer.stage)
    return None


class UnknownAction(Refusal):
    """The request names a stage or an action the application's workflow does not have (a bad request)."""

    code = "unknown_action"
    status = 400

    def __init__(self, action: str, stage: str | None) -> None:
        message = _("The workflow has no such stage or action; please reload the page and choose again.")
        super().__init__(message, fields=[FieldProblem("/action", message)], action=action, stage=stage)


def _stage_for(db: Session, app: Application, actor: Account, spec: WorkflowSpec, action_id: str) -> str:
    """The one current stage the actor owns that offers `action_id` (when a channel names none)."""
    mine = []
    for sid in app.stages or []:
        stage = spec.stages.get(sid)
        owner = stage.owner if stage is not None else None
        if stage is not None and owner is not None and action_id in stage.actions \
                and authority(db, app, actor, owner.role, owner.level) is not None:
            mine.append(sid)
    if len(mine) != 1:
        raise ActionNotAvailable(action_id, None, "", _("Please name the stage to act at.") if mine
                                 else _("This action cannot be taken now."))
    return mine[0]


def act(services: Any, db: Session, actor: Account, app_id: int, action_id: str, *, stage: str | None = None,
        note: str | None, materials: Sequence[str] = (), expected_version: int) -> Acted:
    """Take `action_id` at `stage` (the actor's only stage offering it when None) of the application.

    The engine locks the row, checks the version (`StaleApplication`), the
    actor's standing and the guard (`ActionNotAvailable`/`GuardNotMet`) and the
    reason (`ReasonRequired`), then moves, issues notices and writes the event.
    """
    app = load(services, db, actor, app_id)
    spec = _spec(load_pinned(db, app.versions))
    if (stage is not None and stage not in spec.stages) or not any(action_id in st.actions
                                                                    for st in spec.stages.values()):
        raise UnknownAction(action_id, stage)
    text = (note or "").strip()[:NOTE_MAX] or None
    stage_id = stage or _stage_for(db, app, actor, spec, action_id)
    picked = [str(m)[:64] for m in materials][:50]
    done = engine.perform(
        db, app_id, stage=stage_id, action=action_id, actor=_attached(db, actor), note=text,
        expected_version=expected_version, calendar=services.calendar(app.pack), today=services.today(),
        storage=services.storage, renderers=services.renderers, materials=picked, keys=services.keys,
    )
    title = spec.stages[stage_id].actions[action_id].title
    return Acted(
        app_id=done.application_id, number=app.number or str(app.id), action=action_id, action_title=title,
        version=done.version, status=done.status, result=done.result, awaiting=done.awaiting,
        deadline=done.deadline, stages=_refs(spec, done.stages), event_id=done.event_id, notices=done.notices,
    )


# --------------------------------------------------------------------------- objections (timer stages)


def record_objection(services: Any, db: Session, actor: Account, app_id: int, stage_id: str, *, note: str | None,
                     expected_version: int) -> engine.Transition:
    """Record an objection raised during a public-notice stage; an open one blocks its expiry."""
    load(services, db, actor, app_id)
    text = (note or "").strip()[:NOTE_MAX]
    if not text:
        raise ObjectionNoteRequired(stage_id)
    return engine.record_objection(db, app_id, _attached(db, actor), stage=stage_id, note=text,
                                   expected_version=expected_version, today=services.today())


def dismiss_objection(services: Any, db: Session, actor: Account, app_id: int, objection_id: int, *,
                      note: str | None, expected_version: int) -> engine.Transition:
    """The objection does not hold: it closes and the stage's timer runs on."""
    app = load(services, db, actor, app_id)
    text = (note or "").strip()[:NOTE_MAX] or None
    return engine.resolve_objection(
        db, app_id, _attached(db, actor), objection_id=objection_id, upheld=False, note=text,
        expected_version=expected_version, calendar=services.calendar(app.pack), today=services.today(),
        storage=services.storage, renderers=services.renderers, keys=services.keys,
    )
