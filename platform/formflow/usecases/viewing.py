"""Viewing one application: the citizen's view and the staff view, every value already as a person reads it.

`citizen_view` (the applicant or the window clerk who assisted them) and
`staff_view` (a reviewer whose offices reach the application) return plain
dataclasses; the portal, the desk and both API views only render them.

Decided here, once for every channel:

- reach: anyone else gets `NotFound` (404, the same message everywhere);
- every value goes through `formatting` with its schema node of the PINNED
  form (enum titles, 是/否, money, masked ID and mobile numbers); a drawn
  signature is an image, never its `data:` text; the packs' `source`
  citations and configurators' notes never reach a citizen;
- times are the deployment zone's (`when`: local time, `iso`: for the API);
- the materials are this application's checklist (its category and
  conditions), each with its state;
- the access log: e-licence data shown to staff (the household register among
  them) is recorded as `elicence:<source>`, the full ID number as
  `full_id_number`, in their own transaction before anything is shown, the
  same for the desk and the API.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.applications import drafts as apps
from formflow.applications import materials as materials_mod
from formflow.applications.status import result_word, status_title
from formflow.db.models import Account, Application, ApplicationFile, Correction, Notice, Office
from formflow.forms.render import FormSchema, Node, get_path, split_path
from formflow.packs.versions import Pinned, content_hash, load_pinned
from formflow.personal import access_log
from formflow.reviews import queue as queue_mod
from formflow.text import formatting as fmt
from formflow.text.catalogue import _
from formflow.text.errors import NotFound
from formflow.usecases import timeline as tl
from formflow.workflow.access import authority
from formflow.workflow.process import process
from formflow.workflow.spec import WorkflowSpec, spec_for

PREVIEW_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
PREVIEW_PDF = "application/pdf"
_ID_LIKE = re.compile(r"^\d{17}[\dXx]$")
_MOBILE_LIKE = re.compile(r"^1\d{10}$")


def not_found() -> NotFound:
    return NotFound(_("The application does not exist or is not within your reach."))


# --------------------------------------------------------------------------- the plain results


@dataclass(frozen=True)
class StageRef:
    id: str
    title: str


@dataclass(frozen=True)
class OfficeRef:
    id: str
    name: str


@dataclass(frozen=True)
class Summary:
    """One application in a list, or the head of its page."""

    id: int
    number: str | None
    pack: str
    matter: str
    matter_title: str
    status: str
    status_title: str
    result: str | None
    result_title: str
    version: int
    stages: tuple[StageRef, ...]
    stage_titles: str
    current_step: str | None
    category: str | None
    category_title: str
    channel: str | None
    channel_title: str
    awaiting: str | None
    overdue: bool
    office: OfficeRef | None
    submitted_at: datetime | None
    submitted: str
    created_at: datetime | None
    created: str
    updated_at: datetime | None
    deadline: date | None
    deadline_text: str


@dataclass(frozen=True)
class NoticeView:
    id: int
    kind: str
    title: str
    number: str
    issued_at: datetime | None
    issued: str  # local time
    issued_day: str


@dataclass(frozen=True)
class FileView:
    """A file attached to the application (upload history)."""

    id: int
    material: str
    sha256: str
    name: str
    uploaded_at: datetime | None
    uploaded: str
    replaced: bool


@dataclass(frozen=True)
class FileRef:
    """A file referenced by a value of the form, with how a page may preview it."""

    sha256: str
    name: str
    media_type: str
    preview: str | None  # "image" | "pdf" | None

    @property
    def short(self) -> str:
        return self.sha256[:16]


@dataclass(frozen=True)
class Value:
    """One node of the form data as a person reads it (a field, a group, a repeated list, files)."""

    id: str  # the node's id (`f-members-applicant-name`)
    path: str  # dotted data path
    title: str
    kind: str  # field | group | repeat | files | signature
    text: str  # the formatted value ("" for groups, lists and files)
    empty: bool
    source: str | None = None  # e-licence source
    computed: bool = False
    image: str | None = None  # a drawn signature's data URL
    files: tuple[FileRef, ...] = ()
    children: tuple[Value, ...] = ()


@dataclass(frozen=True)
class DataStep:
    id: str
    title: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class ChecklistRow:
    """One material of THIS application's checklist, with its state."""

    kind: str
    title: str
    requirement: str
    required: bool
    provided: bool
    state: str  # uploaded | missing | obtained | not_obtained | signed | unsigned
    state_title: str
    requirement_title: str  # 必交 / 选交
    files: tuple[FileRef, ...] = ()


@dataclass(frozen=True)
class ConditionView:
    id: str
    title: str
    holds: bool | None
    verdict: str
    shown: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PrecheckView:
    computed: tuple[tuple[str, str], ...]  # (title, formatted value)
    title: str | None  # the category's eligibility title
    eligible: bool | None
    conditions: tuple[ConditionView, ...]


@dataclass(frozen=True)
class CorrectionItem:
    kind: str
    title: str
    requirement: str
    field: str | None


@dataclass(frozen=True)
class CorrectionView:
    id: int
    stage: str
    stage_title: str
    note: str
    requested_on: date | None
    requested: str
    answered_on: date | None
    missing: tuple[CorrectionItem, ...]


@dataclass(frozen=True)
class ElicenceRow:
    title: str
    text: str
    obtained: bool
    source: str


@dataclass(frozen=True)
class CitizenView:
    app: Summary
    data: dict[str, Any]  # the applicant's own data (for editing a draft through the API)
    versions: dict[str, Any]
    timeline: tuple[tl.Entry, ...]
    process: tuple[tl.StageProgress, ...]
    notices: tuple[NoticeView, ...]
    corrections: tuple[CorrectionView, ...]
    files: tuple[FileView, ...]
    withdrawable: bool
    withdraw_title: str


@dataclass(frozen=True)
class StaffView:
    app: Summary
    applicant: str
    id_masked: str
    full_id_number: str  # only when asked for (and recorded)
    steps: tuple[DataStep, ...]
    elicences: tuple[ElicenceRow, ...]
    checklist: tuple[ChecklistRow, ...]
    precheck: PrecheckView | None
    history: tuple[tl.Entry, ...]
    notices: tuple[NoticeView, ...]
    files: tuple[FileView, ...]
    data: dict[str, Any]  # the form data with ID and mobile numbers masked
    versions: dict[str, Any]
    my_stages: tuple[StageRef, ...] = ()  # current stages this reviewer may act on
    recorded: tuple[str, ...] = field(default=())  # what this view wrote to the access log


# --------------------------------------------------------------------------- pieces


def spec_of(pinned: Pinned) -> WorkflowSpec:
    return spec_for(pinned.versions["workflow"], pinned.workflow)


def matter_title(pinned: Pinned, app: Application) -> str:
    return str((pinned.manifest.get("matter") or {}).get("title") or app.matter)


def _stage_title(spec: WorkflowSpec, stage_id: str) -> str:
    return spec.stages[stage_id].title if stage_id in spec.stages else stage_id


def result_title(spec: WorkflowSpec, app: Application) -> str:
    """The end stage's title (the workflow's words for the outcome), else a generic one."""
    if not app.result:
        return ""
    if app.status == "closed":
        for sid in app.stages or []:
            if sid in spec.stages and spec.stages[sid].is_end:
                return spec.stages[sid].title
    return result_word(app.result)


def summary(db: Session, app: Application, pinned: Pinned | None = None, spec: WorkflowSpec | None = None,
            office: Office | None = None) -> Summary:
    pinned = pinned or load_pinned(db, app.versions)
    spec = spec or spec_of(pinned)
    if office is None and app.office_id:
        office = db.get(Office, app.office_id)
    stages = tuple(StageRef(s, _stage_title(spec, s)) for s in app.stages or [])
    return Summary(
        id=app.id, number=app.number, pack=app.pack, matter=app.matter, matter_title=matter_title(pinned, app),
        status=app.status, status_title=status_title(app.status), result=app.result,
        result_title=result_title(spec, app), version=app.version, stages=stages,
        stage_titles=_(", ").join(s.title for s in stages), current_step=app.current_step,
        category=app.category, category_title=pinned.category_title(app.category), channel=app.channel,
        channel_title=pinned.channel_title(app.channel), awaiting=app.awaiting, overdue=bool(app.overdue),
        office=OfficeRef(office.id, office.name) if office is not None else None,
        submitted_at=fmt.aware(app.submitted_at) if app.submitted_at else None,
        submitted=fmt.local_time(app.submitted_at),
        created_at=fmt.aware(app.created_at) if app.created_at else None, created=fmt.local_time(app.created_at),
        updated_at=fmt.aware(app.updated_at) if app.updated_at else None,
        deadline=app.deadline, deadline_text=fmt.day(app.deadline),
    )


def notices(db: Session, app_id: int) -> tuple[NoticeView, ...]:
    rows = db.scalars(select(Notice).where(Notice.application_id == app_id).order_by(Notice.id))
    return tuple(NoticeView(id=n.id, kind=n.kind, title=n.title, number=n.number,
                            issued_at=fmt.aware(n.issued_at) if n.issued_at else None,
                            issued=fmt.local_time(n.issued_at), issued_day=fmt.day(n.issued_at)) for n in rows)


def files(db: Session, app_id: int) -> tuple[FileView, ...]:
    rows = db.scalars(select(ApplicationFile).where(ApplicationFile.application_id == app_id)
                      .order_by(ApplicationFile.id))
    return tuple(FileView(id=f.id, material=f.material, sha256=f.sha256, name=f.original_name,
                          uploaded_at=fmt.aware(f.uploaded_at) if f.uploaded_at else None,
                          uploaded=fmt.local_time(f.uploaded_at), replaced=f.replaced_at is not None) for f in rows)


def _file_refs(value: Any) -> tuple[FileRef, ...]:
    out = []
    for ref in value if isinstance(value, list) else []:
        if isinstance(ref, Mapping) and isinstance(ref.get("sha256"), str):
            media = str(ref.get("media_type") or "")
            preview = "image" if media in PREVIEW_IMAGES else "pdf" if media == PREVIEW_PDF else None
            out.append(FileRef(ref["sha256"], str(ref.get("name") or ""), media, preview))
    return tuple(out)


def node_schema(node: Node) -> dict[str, Any]:
    """What `formatting.shown` needs to know of a rendered node (its schema, as the pinned form said)."""
    schema: dict[str, Any] = {}
    if node.options:
        schema["enum"] = [v for v, _t in node.options]
        schema["x-enum-titles"] = [t for _v, t in node.options]
    if node.fmt:
        schema["format"] = node.fmt
    elif node.path and node.path[-1] == "id_number":
        schema["format"] = "cn-id-card"
    elif node.widget == "mobile":
        schema["format"] = "cn-mobile"
    if node.widget:
        schema["x-widget"] = node.widget
    if node.unit:
        schema["x-unit"] = node.unit
    return schema


def schema_at(form: FormSchema, path: Sequence[Any]) -> dict[str, Any]:
    """The keywords that apply at a data path of the form (fragments merged, nearest first)."""
    merged: dict[str, Any] = {}
    try:
        frags = form.schema_at(tuple(path))
    except Exception:  # noqa: BLE001 - an unknown path is formatted without a schema
        return merged
    for frag in frags:
        for key, value in (frag.schema or {}).items():
            merged.setdefault(key, value)
    return merged


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def value_of(node: Node) -> Value:
    """A rendered node → the formatted value tree."""
    common: dict[str, Any] = dict(id=node.id, path=node.name, title=str(node.title), source=node.source,
                                  computed=bool(node.computed))
    if node.widget == "file":
        refs = _file_refs(node.value)
        return Value(kind="files", text="", empty=not refs, files=refs, **common)
    if node.kind in ("object", "item"):
        return Value(kind="group", text="", empty=_empty(node.value),
                     children=tuple(value_of(c) for c in node.children), **common)
    if node.kind == "repeat":
        return Value(kind="repeat", text="", empty=not node.children,
                     children=tuple(value_of(c) for c in node.children), **common)
    image = fmt.signature_image(node.value)
    if image is not None or node.widget == "signature":
        return Value(kind="signature", text=_("Signed") if image else fmt.shown(node.value),
                     empty=_empty(node.value), image=image, **common)
    return Value(kind="field", text="" if _empty(node.value) else fmt.shown(node.value, node_schema(node)),
                 empty=_empty(node.value), **common)


def hidden_materials(pinned: Pinned, data: Mapping[str, Any], items: Sequence[materials_mod.ChecklistItem]) -> set[str]:
    """Upload fields of material kinds NOT on this application's checklist (and holding nothing)."""
    upload_path = (pinned.materials or {}).get("upload_path")
    listed = {i.field for i in items}
    hide: set[str] = set()
    if upload_path:
        for kind in (pinned.materials.get("kinds") or {}):
            dotted = f"{upload_path}.{kind}"
            if dotted not in listed and not get_path(dict(data), split_path(dotted)):
                hide.add(dotted)
    return hide


def data_steps(pinned: Pinned, data: dict[str, Any], items: Sequence[materials_mod.ChecklistItem]
               ) -> tuple[list[DataStep], list[Node]]:
    """The form's steps with their values, and every e-licence node (x-source) among them."""
    form = apps.form_of(pinned)
    hide = hidden_materials(pinned, data, items)
    steps: list[DataStep] = []
    sourced: list[Node] = []
    for step in form.steps():
        try:
            node, _hidden = form.step_node(step.id, data, hide=hide)
        except KeyError:
            continue
        sourced.extend(n for n in node.walk() if n.source)
        steps.append(DataStep(step.id, str(step.title), tuple(value_of(c) for c in node.children)))
    return steps, sourced


def _state(item: materials_mod.ChecklistItem, provided: bool, value: Any) -> tuple[str, str]:
    if provided and isinstance(value, list):
        return "uploaded", _("Uploaded")
    if item.signature:
        return ("signed", _("Signed")) if provided else ("unsigned", _("Not signed"))
    if item.source:
        return ("obtained", _("Obtained")) if provided else ("not_obtained", _("Not obtained"))
    return ("uploaded", _("Uploaded")) if provided else ("missing", _("Not uploaded"))


def checklist(pinned: Pinned, data: dict[str, Any], today: date) -> list[ChecklistRow]:
    """This application's checklist (its category and conditions), each item with its state."""
    try:
        items = apps.checklist(pinned, data, today)
        pruned = apps.form_of(pinned).prune_hidden(dict(data))
    except Exception:  # noqa: BLE001 - rules over a broken draft must not hide the file
        return []
    rows = []
    for item in items:
        provided = materials_mod.provided(item, pruned)
        state, title = _state(item, provided, materials_mod.value_at(pruned, item.path))
        rows.append(ChecklistRow(
            kind=item.kind, title=item.title, requirement=item.requirement, required=item.required,
            provided=provided, state=state, state_title=title,
            requirement_title=_("Must be submitted") if item.required else _("Optional"),
            files=_file_refs(materials_mod.value_at(data, item.path)),
        ))
    return rows


def _verdict(holds: bool | None) -> str:
    if holds is None:
        return _("Cannot tell")
    return _("Met") if holds else _("Not met")


def precheck_view(pinned: Pinned, data: dict[str, Any], today: date) -> PrecheckView | None:
    """The eligibility pre-check with every value formatted by its schema node, unit or parameter."""
    try:
        pre = apps.precheck(pinned, data, today)
    except Exception:  # noqa: BLE001 - rules of a broken draft must not hide the page
        return None
    form = apps.form_of(pinned)
    specs = pinned.ruleset.rules.get("computed") or {}
    params = (pinned.documents.get("parameters") or {}).get("parameters") or {}

    def title(name: str) -> str:
        kind, _dot, rest = name.partition(".")
        if kind == "params" and rest in params:
            return str(params[rest].get("title") or rest)
        return str(pre.shown_titles.get(name, name))

    def text(name: str, value: Any) -> str:
        kind, _dot, rest = name.partition(".")
        if kind == "computed":
            return fmt.with_unit(value, (specs.get(rest) or {}).get("unit"))
        if kind == "params":
            return fmt.with_unit(value, (params.get(rest) or {}).get("unit"))
        if kind == "data":
            return fmt.shown(value, schema_at(form, split_path(rest)))
        return fmt.shown(value)

    computed = tuple((str(t), fmt.with_unit(v, u)) for t, v, u in pre.computed)
    elig = pre.eligibility
    if elig is None:
        return PrecheckView(computed, None, None, ())
    conditions = tuple(ConditionView(c.id, str(c.title), c.holds, _verdict(c.holds),
                                     tuple((title(n), text(n, v)) for n, v in c.shown.items()))
                       for c in elig.conditions)
    return PrecheckView(computed, str(elig.title), elig.eligible, conditions)


def masked_data(data: Any) -> Any:
    """A copy of the form data with every ID and mobile number masked (for staff reading it as data)."""
    if isinstance(data, dict):
        return {k: masked_data(v) for k, v in data.items()}
    if isinstance(data, list):
        return [masked_data(v) for v in data]
    if isinstance(data, str):
        if _ID_LIKE.match(data):
            return fmt.mask_id(data)
        if _MOBILE_LIKE.match(data):
            return fmt.mask_mobile(data)
    return data


def _corrections(db: Session, app: Application, pinned: Pinned, spec: WorkflowSpec) -> tuple[CorrectionView, ...]:
    kinds = (pinned.materials or {}).get("kinds") or {}
    out = []
    for corr in db.scalars(select(Correction).where(Correction.application_id == app.id,
                                                    Correction.answered_on.is_(None)).order_by(Correction.id)):
        missing = []
        for kind in corr.missing or []:
            if kind not in kinds:
                continue
            try:
                where = materials_mod.field_of(pinned.materials, kind)
            except (ValueError, KeyError):
                where = None
            missing.append(CorrectionItem(kind, str(kinds[kind].get("title") or kind),
                                          str(kinds[kind].get("requirement") or ""), where))
        out.append(CorrectionView(corr.id, corr.stage, _stage_title(spec, corr.stage), corr.note or "",
                                  corr.requested_on, fmt.day(corr.requested_on), corr.answered_on, tuple(missing)))
    return tuple(out)


def _withdrawable(app: Application, spec: WorkflowSpec) -> bool:
    withdraw = spec.citizen.get("withdraw")
    return app.status == "draft" or (
        app.status == "active" and withdraw is not None and any(withdraw.allowed_from(x) for x in app.stages or []))


# --------------------------------------------------------------------------- the use cases


def _citizen_app(db: Session, actor: Account | None, app_id: int) -> Application:
    app = db.get(Application, app_id)
    if app is None or actor is None or not apps.may_view(app, actor):
        raise not_found()
    return app


def my_applications(services: Any, db: Session, actor: Account, *, limit: int = 200) -> list[Summary]:
    """The applications the person made or assisted with at the window, newest first."""
    rows = db.scalars(select(Application).where(
        (Application.applicant_id == actor.id) | (Application.assisted_by_id == actor.id)
    ).order_by(Application.id.desc()).limit(limit))
    return [summary(db, app) for app in rows]


def citizen_view(services: Any, db: Session, actor: Account | None, app_id: int) -> CitizenView:
    """The applicant's (or assisting clerk's) view: progress, timeline, notices, corrections to answer."""
    app = _citizen_app(db, actor, app_id)
    pinned = load_pinned(db, app.versions)
    spec = spec_of(pinned)
    events = tl.events_of(db, app.id)
    withdraw = spec.citizen.get("withdraw")
    return CitizenView(
        app=summary(db, app, pinned, spec), data=copy.deepcopy(app.data or {}), versions=dict(app.versions or {}),
        timeline=tuple(tl.timeline(db, app, spec, audience=tl.CITIZEN, events=events)),
        process=tuple(tl.progress(db, app, pinned.workflow, events=events)),
        notices=notices(db, app.id), corrections=_corrections(db, app, pinned, spec), files=files(db, app.id),
        withdrawable=_withdrawable(app, spec),
        withdraw_title=withdraw.title if withdraw is not None else _("Withdraw the application"),
    )


def _staff_app(services: Any, db: Session, actor: Account | None, app_id: int) -> Application:
    if actor is None:
        raise not_found()
    reach = queue_mod.reach_of(db, actor.id, services.packs)
    if not queue_mod.in_reach(db, app_id, reach):
        raise not_found()
    app = db.get(Application, app_id)
    if app is None:
        raise not_found()
    return app


def owned_stages(db: Session, app: Application, actor: Account, spec: WorkflowSpec) -> list[str]:
    """The application's current stages that `actor` may act on (their role, at an office of its region)."""
    out = []
    for stage_id in app.stages or []:
        stage = spec.stages.get(stage_id)
        if (app.status == "active" and stage is not None and stage.owner is not None
                and authority(db, app, actor, stage.owner.role, stage.owner.level) is not None):
            out.append(stage_id)
    return out


def _elicence_rows(nodes: Sequence[Node]) -> tuple[list[ElicenceRow], list[str]]:
    rows, sources = [], set()
    for node in nodes:
        obtained = not _empty(node.value)
        if obtained and node.source:
            sources.add(node.source)
        if node.kind == "field":
            text = fmt.shown(node.value, node_schema(node)) if obtained else ""
        else:
            text = _("Obtained") if obtained else _("Not obtained")
        rows.append(ElicenceRow(str(node.title), text, obtained, str(node.source)))
    return rows, sorted(sources)


def _record(services: Any, actor: Account, app_id: int, whats: Sequence[str]) -> None:
    """Access records, committed in their own transaction before anything is shown."""
    if not whats:
        return
    with services.sessions.begin() as log:
        for what in whats:
            access_log.record_access(log, actor.id, app_id, what)


def staff_view(services: Any, db: Session, actor: Account | None, app_id: int, *, full_id: bool = False
               ) -> StaffView:
    """A reviewer's view of an application within reach: data formatted and masked, checklist, pre-check,
    history. The e-licence data shown and, with `full_id`, the applicant's full ID number are recorded."""
    if actor is None:
        raise not_found()
    app = _staff_app(services, db, actor, app_id)
    pinned = load_pinned(db, app.versions)
    spec = spec_of(pinned)
    today = services.today()
    data = copy.deepcopy(app.data or {})
    try:
        items = apps.checklist(pinned, data, today)
    except Exception:  # noqa: BLE001 - rules over a broken draft must not hide the file
        items = []
    steps, sourced = data_steps(pinned, data, items)
    elicences, sources = _elicence_rows(sourced)
    applicant = db.get(Account, app.applicant_id)
    number = ""
    if applicant is not None and applicant.id_number_enc:
        try:
            number = services.keys.open(applicant.id_number_enc)
        except Exception:  # noqa: BLE001 - an unreadable number is shown as absent
            number = ""
    whats = [access_log.ELICENCE.format(source=s) for s in sources]
    if full_id:
        whats.append(access_log.FULL_ID_NUMBER)
    _record(services, actor, app.id, whats)
    return StaffView(
        app=summary(db, app, pinned, spec), applicant=applicant.display_name if applicant else "",
        id_masked=fmt.mask_id(number), full_id_number=number if full_id else "",
        steps=tuple(steps), elicences=tuple(elicences), checklist=tuple(checklist(pinned, data, today)),
        precheck=precheck_view(pinned, data, today),
        history=tuple(tl.timeline(db, app, spec, audience=tl.STAFF)),
        notices=notices(db, app.id), files=files(db, app.id), data=masked_data(data),
        versions=dict(app.versions or {}),
        my_stages=tuple(StageRef(sid, _stage_title(spec, sid)) for sid in owned_stages(db, app, actor, spec)),
        recorded=tuple(whats),
    )


def citizen_catalogue(content: Mapping[str, Any]) -> dict[str, Any]:
    """A materials catalogue as a citizen may read it: no `source` citations, no configurators' notes.

    A kind's `source` names the e-licence it is fetched from (kept); a category's is a citation (dropped).
    """
    kinds = {k: {key: v for key, v in (spec or {}).items() if key != "note"}
             for k, spec in (content.get("kinds") or {}).items()}
    categories = {k: {key: v for key, v in (spec or {}).items() if key not in ("note", "source")}
                  for k, spec in (content.get("categories") or {}).items()}
    return {"upload_path": content.get("upload_path"), "kinds": kinds, "categories": categories}


def process_summary(workflow: Mapping[str, Any], version: str) -> dict[str, Any]:
    """The workflow as a citizen reads it: title, committed time limit, stages in order, citizen actions."""
    commitment = workflow.get("commitment")
    return {
        "version": version, "title": str(workflow.get("title") or workflow.get("id") or ""),
        "commitment": {"title": str(commitment.get("title") or _("Committed time limit")),
                       "days": int(commitment["days"]), "unit": str(commitment.get("unit") or "working")}
        if commitment else None,
        "stages": process(dict(workflow)),
        "citizen_actions": [{"id": k, "title": str((v or {}).get("title") or k)}
                            for k, v in (workflow.get("citizen") or {}).items()],
    }


@dataclass(frozen=True)
class PinnedDocuments:
    """The versions an application was started under, as its applicant may read them."""

    form: dict[str, Any]
    form_version: str
    materials: dict[str, Any]  # `citizen_catalogue` of the pinned materials
    materials_version: str
    workflow: dict[str, Any]  # `process_summary` of the pinned workflow


def pinned_documents(services: Any, db: Session, actor: Account | None, app_id: int) -> PinnedDocuments:
    """The pinned form, materials catalogue and process of one's own application."""
    app = _citizen_app(db, actor, app_id)
    pinned = load_pinned(db, app.versions)
    return PinnedDocuments(
        form=pinned.documents["form"], form_version=app.versions["form"],
        materials=citizen_catalogue(pinned.materials or {}), materials_version=content_hash(pinned.materials or {}),
        workflow=process_summary(pinned.workflow, app.versions["workflow"]),
    )
