"""Reviewer resources: the queue, an application, its table marking, the available actions, performing one.

Reach is the desk's (`queue.reach_of` / `queue.in_reach`): an application
outside the reviewer's offices, or a stage they do not own, answers 404.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields
from sqlalchemy.orm import Session

from formflow.api import common as c
from formflow.api import schemas as s
from formflow.api.errors import ApiError, load_body, load_query
from formflow.api.routing import ID, route
from formflow.api.views_citizen import (
    _idempotent,
    entries_json,
    files_json,
    notices_json,
    office_json,
    served,
    summary_json,
)
from formflow.reviews import queue as queue_mod
from formflow.reviews.tables import MarkingInvalid
from formflow.text.catalogue import lazy
from formflow.usecases import review, serving, viewing
from formflow.web.context import services
from formflow.workflow.errors import ActionNotAvailable, ReasonRequired, StaleApplication

TAG = lazy("Reviewers")
PAGE_SIZE = 20


@route("/review/queue", "GET", summary=lazy("The queue: the same filters and keyset pages as the desk"), tags=[TAG],
       query=s.QueueQuerySchema, responses={200: s.QueuePageSchema},
       description=lazy("Order: overdue first, then by deadline (none last), then by number. `after` is the "
                        "previous page's next_cursor."))
def queue():
    """The reviewer's queue (`review.queue`)."""
    account = c.require_reviewer()
    args = load_query(s.QueueQuerySchema())
    filters = queue_mod.Filters(stage=args.get("stage"), category=args.get("category"),
                                channel=args.get("channel"), overdue=args.get("overdue"))
    page = review.PageRequest(args.get("after"), args.get("limit", PAGE_SIZE))
    with c.sessions()() as db:
        found = review.queue(services(), db, account, filters, page)
    items = [{
        "id": row.id, "number": row.number, "pack": row.pack, "matter": row.matter,
        "applicant": row.applicant, "id_number_masked": row.id_masked,
        "category": row.category, "category_title": row.category_title,
        "channel": row.channel, "channel_title": row.channel_title,
        "stages": [{"id": st.id, "title": st.title} for st in row.stages],
        "office": {"id": row.office_id, "name": row.office_name} if row.office_id else None,
        "submitted_at": row.submitted_at, "deadline": row.deadline, "overdue": row.overdue, "version": row.version,
    } for row in found.rows]
    return s.QueuePageSchema().dump({"items": items, "next_cursor": found.next_cursor})


class ReviewViewSchema(s.ReviewApplicationSchema):
    """The staff view (`usecases.viewing.staff_view`): the desk's values, formatted and masked."""

    steps = fields.List(fields.Dict(), required=True, metadata={"description": lazy(
        "The form's steps and their values (formatted, ID and mobile numbers masked), as on the desk")})
    checklist = fields.List(fields.Dict(), required=True, metadata={
        "description": lazy("This application's materials checklist and its states")})
    precheck = fields.Dict(allow_none=True, required=True, metadata={
        "description": lazy("The eligibility pre-check (values formatted)")})
    stage_values = fields.List(fields.Nested(s.StageValuesSchema), required=True, metadata={
        "description": lazy("Values reviewers entered in the stages' forms (latest marking of each stage)")})


def _value_json(v: viewing.Value) -> dict[str, Any]:
    return {"path": v.path, "title": v.title, "kind": v.kind, "text": v.text, "empty": v.empty,
            "source": v.source, "image": v.image,
            "files": [{"sha256": f.sha256, "name": f.name, "media_type": f.media_type} for f in v.files],
            "children": [_value_json(child) for child in v.children]}


def staff_json(view: viewing.StaffView) -> dict[str, Any]:
    pre = view.precheck
    return ReviewViewSchema().dump({
        **summary_json(view.app),
        "applicant": {"name": view.applicant, "id_number_masked": view.id_masked},
        "office": office_json(view.app.office), "overdue": view.app.overdue, "data": view.data,
        "versions": view.versions, "history": entries_json(view.history), "notices": notices_json(view.notices),
        "files": files_json(view.files), "my_stages": [{"id": st.id, "title": st.title} for st in view.my_stages],
        "steps": [{"id": st.id, "title": st.title, "values": [_value_json(v) for v in st.values]}
                  for st in view.steps],
        "checklist": [{"kind": m.kind, "title": m.title, "required": m.required, "provided": m.provided,
                       "state": m.state, "state_title": m.state_title} for m in view.checklist],
        "precheck": None if pre is None else {
            "title": pre.title, "eligible": pre.eligible,
            "computed": [{"title": t, "text": x} for t, x in pre.computed],
            "conditions": [{"id": cond.id, "title": cond.title, "holds": cond.holds, "verdict": cond.verdict,
                            "shown": [{"title": t, "text": x} for t, x in cond.shown]} for cond in pre.conditions]},
        "stage_values": [{"stage": sv["stage"], "stage_title": sv["stage_title"], "values": sv["values"],
                          "shown": [{"title": t, "text": x} for t, x in sv["shown"]]} for sv in view.stage_values],
    })


@route(f"/review/applications/<{ID}:app_id>", "GET",
       summary=lazy("One application: data (ID and mobile numbers masked), applicant, history, notices, "
                    "materials checklist, pre-check; viewing e-licences is recorded"),
       tags=[TAG], responses={200: ReviewViewSchema})
def application(app_id: int):
    with c.sessions()() as db:
        return staff_json(viewing.staff_view(services(), db, c.current_account(), app_id))


@route(f"/review/applications/<{ID}:app_id>/stages/<stage_id>/marking", "GET",
       summary=lazy("The stage's review table, its JSON Schema and the latest marking"), tags=[TAG],
       responses={200: s.MarkingViewSchema},
       description=lazy("Rows of the schema that do not apply to this application (the material they check is "
                        "neither required nor provided) carry x-not-applicable: they can only be na and may be "
                        "left out."))
def marking(app_id: int, stage_id: str):
    """The stage's marking form (`review.marking_form`)."""
    account = c.require_reviewer()
    with c.sessions()() as db:
        form = review.marking_form(services(), db, account, app_id, stage_id)
    return s.MarkingViewSchema().dump({
        "stage": form.stage.id, "table_id": form.table_id, "table_version": form.table_version,
        "table": form.table, "schema": form.schema, "marking": form.marking, "outcome": form.outcome,
        "form": form.form,
    })


@route(f"/review/applications/<{ID}:app_id>/stages/<stage_id>/marking", "PUT",
       summary=lazy("Fill in the stage's review table (each criterion: pass / fail / na; fail needs a note)"),
       tags=[TAG], body=s.MarkingRequestSchema, responses={200: s.MarkingResultSchema},
       description=lazy("A marking that does not validate answers 422 (code=marking_invalid); the pointers of "
                        "fields are relative to the request body (/marking/rows/1/criteria/0)."))
def put_marking(app_id: int, stage_id: str):
    """Record a marking (`review.mark`)."""
    account = c.require_reviewer()
    body = load_body(s.MarkingRequestSchema())
    try:
        with c.sessions().begin() as db:
            done = review.mark(services(), db, account, app_id, stage_id, body["marking"])
    except MarkingInvalid as exc:
        raise ApiError(422, exc.code, exc.message,
                       fields=[("/marking" + f.pointer, f.message) for f in exc.fields]) from None
    return s.MarkingResultSchema().dump({"stage": done.stage.id, "table_id": done.table_id,
                                         "outcome": done.outcome, "failed_rows": done.failed_rows,
                                         "form": done.values})


@route(f"/review/applications/<{ID}:app_id>/actions", "GET",
       summary=lazy("The actions this account may take at the current stages (with the reason when it cannot)"),
       tags=[TAG], responses={200: s.ActionListSchema})
def actions(app_id: int):
    account = c.require_reviewer()
    with c.sessions()() as db:
        offered = review.available_actions(services(), db, account, app_id)
    return s.ActionListSchema().dump({"version": offered.version, "actions": [{
        "stage": a.stage, "stage_title": a.stage_title, "action": a.action, "title": a.title,
        "allowed": a.allowed, "why_not": a.why_not, "reason_required": a.reason_required,
        "correction": a.correction, "targets": list(a.targets)} for a in offered.actions]})


@route(f"/review/applications/<{ID}:app_id>/actions", "POST",
       summary=lazy("Take an action (with the application's current version; 409 with the current state when "
                    "someone else handled it first)"),
       tags=[TAG], body=s.ActionRequestSchema, responses={200: s.TransitionSchema}, errors=(409,), idempotent=True,
       description=lazy("A retry with the same Idempotency-Key is not done twice: the same key with the same body "
                        "answers the first result. 409: stale (the version is out of date; error.current is the "
                        "current state), not_available (cannot be taken at this stage now), guard_not_met (its "
                        "condition does not hold)."))
def perform(app_id: int):
    """Take an action (`review.act`)."""
    account = c.require_reviewer()
    body = load_body(s.ActionRequestSchema())

    def work(db: Session) -> tuple[int, dict[str, Any]]:
        try:
            done = review.act(services(), db, account, app_id, body["action"], stage=body["stage"],
                              note=body.get("note"), materials=body.get("materials") or (),
                              expected_version=body["version"])
        except StaleApplication as exc:
            cur = exc.current
            raise ApiError(409, exc.code, exc.message, extra={"current": {
                "application_id": cur.application_id, "version": cur.version, "status": cur.status,
                "stages": [{"id": a, "title": b} for a, b in zip(cur.stages, cur.stage_titles, strict=False)],
                "result": cur.result}}) from None
        except ReasonRequired as exc:
            raise ApiError(422, exc.code, exc.message, fields=[("/note", exc.message)]) from None
        except ActionNotAvailable as exc:  # and GuardNotMet: the same code and message as the desk's
            raise ApiError(409, exc.code, exc.message) from None
        return 200, s.TransitionSchema().dump({
            "application_id": done.app_id, "version": done.version, "status": done.status,
            "stages": [{"id": st.id, "title": st.title} for st in done.stages], "result": done.result,
            "awaiting": done.awaiting, "deadline": done.deadline, "event_id": done.event_id,
            "notices": [{"id": n.id, "kind": n.kind, "title": n.title, "number": n.number,
                         "url": c.notice_url(n.id), "ready": n.sha256 is not None} for n in done.notices],
        })

    return _idempotent(account, body, work)


@route(f"/review/applications/<{ID}:app_id>/files/<sha256>", "GET",
       summary=lazy("Download one material file of the application"), tags=[TAG], responses={200: "file"})
def download(app_id: int, sha256: str):
    with c.sessions()() as db:
        return served(serving.open_file(services(), db, c.current_account(), app_id, sha256))
