"""The staff view: a reviewer's view of an application within reach.

Data formatted and masked, the e-licence data, the checklist, the pre-check,
the history and the stages the reviewer may act on. What it shows beyond the
masked default (e-licence data as `elicence:<source>`, the full ID number as
`full_id_number`) is written to the access log in its own transaction before
anything is shown, the same for the desk and the API.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from formflow.applications import drafts as apps
from formflow.db.models import Account, Application
from formflow.forms.render import Node
from formflow.packs.versions import load_pinned
from formflow.personal import access_log
from formflow.personal.numbers import id_number_of, mobile_of
from formflow.reviews import queue as queue_mod
from formflow.text import formatting as fmt
from formflow.text.catalogue import _
from formflow.usecases import timeline as tl
from formflow.usecases.viewing.assessment import ChecklistRow, PrecheckView, checklist, precheck_view
from formflow.usecases.viewing.summaries import (
    FileView,
    NoticeView,
    StageRef,
    Summary,
    files,
    not_found,
    notices,
    spec_of,
    stage_title,
    summary,
)
from formflow.usecases.viewing.values import DataStep, data_steps, is_empty, masked_data, node_schema
from formflow.workflow.access import authority
from formflow.workflow.spec import WorkflowSpec


@dataclass(frozen=True)
class ElicenceRow:
    title: str
    text: str
    obtained: bool
    source: str


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
    mobile_masked: str = ""  # the applicant's mobile number, masked
    full_mobile: str = ""  # only when asked for (and recorded)
    #: Reviewer-entered stage form values (`reviews.stage_forms`): one dict per stage with values,
    #: {"stage", "stage_title", "values", "shown": [(title, text)]}, in workflow order.
    stage_values: tuple[dict[str, Any], ...] = ()


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
        obtained = not is_empty(node.value)
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


def staff_view(services: Any, db: Session, actor: Account | None, app_id: int, *, full_id: bool = False,
               full_mobile: bool = False) -> StaffView:
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
    number = id_number_of(services.keys, applicant)
    whats = [access_log.ELICENCE.format(source=s) for s in sources]
    if full_id:
        whats.append(access_log.FULL_ID_NUMBER)
    mobile = mobile_of(services.keys, applicant)
    if full_mobile and mobile:
        whats.append(access_log.FULL_MOBILE)
    _record(services, actor, app.id, whats)
    return StaffView(
        app=summary(db, app, pinned, spec), applicant=applicant.display_name if applicant else "",
        id_masked=fmt.mask_id(number), full_id_number=number if full_id else "",
        steps=tuple(steps), elicences=tuple(elicences), checklist=tuple(checklist(pinned, data, today)),
        precheck=precheck_view(pinned, data, today),
        history=tuple(tl.timeline(db, app, spec, audience=tl.STAFF)),
        notices=notices(db, app.id), files=files(db, app.id), data=masked_data(data),
        versions=dict(app.versions or {}),
        my_stages=tuple(StageRef(sid, stage_title(spec, sid)) for sid in owned_stages(db, app, actor, spec)),
        recorded=tuple(whats), mobile_masked=fmt.mask_mobile(mobile) if mobile else "",
        full_mobile=mobile if full_mobile else "",
        stage_values=_stage_values(db, app, spec),
    )


def _stage_values(db: Session, app: Application, spec: WorkflowSpec) -> tuple[dict[str, Any], ...]:
    from formflow.reviews.stage_forms import shown_values, stage_values

    found = stage_values(db, app.id, spec.stages.values())
    return tuple({"stage": sid, "stage_title": st.title, "values": found[sid],
                  "shown": shown_values(st.form, found[sid])}
                 for sid, st in spec.stages.items() if sid in found)
