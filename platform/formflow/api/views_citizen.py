"""Citizen resources: drafts, files, submit, my applications with their timelines, correction answers,
withdrawal, notices (the public matters and consent: `views_matters`).

Every change goes through the same services as the portal (`formflow.applications.drafts`,
`formflow.workflow.engine`), so validation, field errors and history are the portal's.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

from flask import Response, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from formflow.api import common as c
from formflow.api import idempotency
from formflow.api import schemas as s
from formflow.api.errors import ApiError, load_body, load_with, read_json
from formflow.api.routing import ID, route
from formflow.api.views_matters import _bundle_view
from formflow.applications import drafts as apps
from formflow.applications import materials as materials_mod
from formflow.db.models import (
    Account,
    Application,
)
from formflow.forms.errors import FieldError, translate_all
from formflow.forms.render import get_path
from formflow.packs.versions import load_pinned
from formflow.text.catalogue import _, lazy
from formflow.usecases import corrections as correction_case
from formflow.usecases import drafts as drafts_uc
from formflow.usecases import files as file_cases
from formflow.usecases import serving, viewing
from formflow.usecases import start as start_uc
from formflow.usecases import submit as submit_case
from formflow.usecases import withdraw as withdraw_case
from formflow.web.context import services
from formflow.workflow.errors import StaleApplication
from formflow.workflow.moves import current_state, workflow_of

CITIZEN = lazy("Applicant")
FILE_TYPES = ("image/jpeg", "image/png", "application/pdf")


# --------------------------------------------------------------------------- loading one's own application


def _own(db: Session, app_id: int, account: Account) -> Application:
    app = db.get(Application, app_id)
    if app is None or not apps.may_view(app, account):
        raise ApiError(404)
    return app


def _editable(app: Application, account: Account) -> None:
    if not apps.may_edit(app, account):
        raise ApiError(409, "not_editable",
                       _("This application has been submitted or closed and can no longer be changed."),
                       extra={"current": _state(app)})


def _state(app: Application, spec=None) -> dict[str, Any]:
    state = current_state(app, spec)
    return {"application_id": state.application_id, "version": state.version, "status": state.status,
            "stages": [{"id": sid, "title": title} for sid, title in zip(state.stages, state.stage_titles,
                                                                         strict=False)],
            "result": state.result}


def stale(exc: StaleApplication) -> ApiError:
    """The engine's refusal as the API shows it: the same code and message, with the current state."""
    cur = exc.current
    return ApiError(409, "stale", exc.message,
                    extra={"current": {
                        "application_id": cur.application_id, "version": cur.version, "status": cur.status,
                        "stages": [{"id": a, "title": b} for a, b in zip(cur.stages, cur.stage_titles, strict=False)],
                        "result": cur.result}})


def _stale_draft(db_factory, app_id: int, exc: apps.StaleDraft) -> ApiError:
    with db_factory() as db:
        app = db.get(Application, app_id)
        extra = {"current": _state(app, workflow_of(db, app))} if app is not None else {}
    return ApiError(409, "stale", exc.message, extra=extra)


def summary_json(v: viewing.Summary) -> dict[str, Any]:
    """A `viewing.Summary` in the API's summary shape."""
    return {
        "id": v.id, "number": v.number, "pack": v.pack, "matter": v.matter, "matter_title": v.matter_title,
        "status": v.status, "status_title": v.status_title, "result": v.result,
        "result_title": v.result_title or None, "version": v.version,
        "stages": [{"id": st.id, "title": st.title} for st in v.stages], "current_step": v.current_step,
        "category": v.category, "channel": v.channel, "awaiting": v.awaiting, "submitted_at": v.submitted_at,
        "deadline": v.deadline, "created_at": v.created_at, "updated_at": v.updated_at,
    }


def entries_json(entries: Any) -> list[dict[str, Any]]:
    return [{"id": e.id, "at": e.at, "action": e.action, "title": e.title, "actor": e.actor, "stage": e.stage,
             "to_stage": e.to_stage, "note": e.note or None} for e in entries]


def notices_json(rows: Any) -> list[dict[str, Any]]:
    return [{"id": n.id, "kind": n.kind, "title": n.title, "number": n.number, "issued_at": n.issued_at,
             "url": c.notice_url(n.id), "ready": n.ready} for n in rows]


def files_json(rows: Any) -> list[dict[str, Any]]:
    return [{"id": f.id, "material": f.material, "sha256": f.sha256, "name": f.name, "uploaded_at": f.uploaded_at,
             "replaced": f.replaced} for f in rows]


def office_json(office: viewing.OfficeRef | None) -> dict[str, str] | None:
    return {"id": office.id, "name": office.name} if office is not None else None


def application_view(db: Session, app: Application) -> dict[str, Any]:
    """The citizen's view of one application (what "My applications" shows: `viewing.citizen_view`), as JSON."""
    return citizen_json(viewing.citizen_view(services(), db, c.current_account(), app.id))


@functools.cache
def _application_schema() -> s.ApplicationSchema:
    """One ApplicationSchema per process (a schema keeps no state between dumps; its nested ones are built once)."""
    return s.ApplicationSchema()


def citizen_json(view: viewing.CitizenView) -> dict[str, Any]:
    return _application_schema().dump({
        **summary_json(view.app), "office": office_json(view.app.office), "data": view.data,
        "versions": view.versions, "timeline": entries_json(view.timeline), "notices": notices_json(view.notices),
        "corrections": [{"id": x.id, "stage": x.stage, "note": x.note or None, "requested_on": x.requested_on,
                         "answered_on": x.answered_on,
                         "missing": [{"kind": m.kind, "title": m.title, "requirement": m.requirement,
                                      "field": m.field} for m in x.missing]} for x in view.corrections],
        "files": files_json(view.files), "withdrawable": view.withdrawable,
    })


# --------------------------------------------------------------------------- drafts


def _channel(pack, wanted: str | None) -> str | None:
    return start_uc.channel_for(pack, wanted, assisted=False)


@route("/drafts", "POST",
       summary=lazy("Start an application: create a draft (or return the existing draft)"),
       tags=[CITIZEN], body=s.DraftCreateSchema,
       responses={201: s.ApplicationSchema, 200: s.ApplicationSchema}, errors=(403,),
       description=lazy("Identity must be verified and the current privacy agreement accepted. A region above the "
                        "level of the accepting stage is narrowed down (several lower regions: 422, "
                        "code=region_too_broad, choices lists them); a region where online acceptance is not open "
                        "yet: 422, code=region_unavailable. The draft pins the current form, materials, "
                        "rules and workflow versions, binds the applicant to the verified identity and is prefilled"
                        " from e-licences. An existing unsubmitted draft of the same matter is returned (200)."))
def create_draft():
    """The OpenAPI description (in the catalogue) says what this operation requires and answers."""
    account = c.current_account()
    body = load_body(s.DraftCreateSchema())
    with c.sessions().begin() as db:
        applicant = db.get_one(Account, account.id)
        existing = start_uc.open_draft(db, applicant.id, body["pack"], body["matter"])
        if existing is not None:
            return application_view(db, existing), 200
        app = start_uc.start_application(services(), db, applicant, body["pack"], body["matter"],
                                         body["office_id"], channel=body.get("channel"),
                                         identity=start_uc.account_identity(services(), applicant))
        return application_view(db, app), 201


@route("/applications", "GET", summary=lazy("My applications (drafts included), newest first"), tags=[CITIZEN],
       responses={200: s.ApplicationListSchema})
def my_applications():
    with c.sessions()() as db:
        rows = viewing.my_applications(services(), db, c.current_account())
        return s.ApplicationListSchema().dump({"items": [summary_json(v) for v in rows]})


@route(f"/applications/<{ID}:app_id>", "GET",
       summary=lazy("One of my applications: data, timeline, notices, corrections to answer"),
       tags=[CITIZEN], responses={200: s.ApplicationSchema})
def application(app_id: int):
    with c.sessions()() as db:
        return citizen_json(viewing.citizen_view(services(), db, c.current_account(), app_id))


@route(f"/applications/<{ID}:app_id>/form", "GET",
       summary=lazy("The form version the application pinned (JSON Schema as written)"), tags=[CITIZEN],
       responses={200: s.FormBundleSchema})
def application_form(app_id: int):
    with c.sessions()() as db:
        pinned = viewing.pinned_documents(services(), db, c.current_account(), app_id)
        return _bundle_view(pinned.form, pinned.form_version)


@route(f"/applications/<{ID}:app_id>/materials", "GET",
       summary=lazy("The materials catalogue the application pinned"), tags=[CITIZEN],
       responses={200: s.MaterialsCatalogueSchema})
def application_materials(app_id: int):
    with c.sessions()() as db:
        pinned = viewing.pinned_documents(services(), db, c.current_account(), app_id)
        return s.MaterialsCatalogueSchema().dump({"version": pinned.materials_version, **pinned.materials})


@route(f"/applications/<{ID}:app_id>/workflow", "GET",
       summary=lazy("The approval process the application pinned"), tags=[CITIZEN],
       responses={200: s.WorkflowSummarySchema})
def application_workflow(app_id: int):
    with c.sessions()() as db:
        pinned = viewing.pinned_documents(services(), db, c.current_account(), app_id)
        return s.WorkflowSummarySchema().dump(pinned.workflow)


@route(f"/applications/<{ID}:app_id>/checklist", "GET",
       summary=lazy("This application's checklist (by its category and conditions) and what is provided"),
       tags=[CITIZEN], responses={200: s.ChecklistSchema})
def checklist(app_id: int):
    account = c.current_account()
    with c.sessions()() as db:
        app = _own(db, app_id, account)
        pinned = load_pinned(db, app.versions)
        data = app.data or {}
        items = _guarded(lambda: apps.checklist(pinned, data, c.today()))
        pruned = _guarded(lambda: apps.form_of(pinned).prune_hidden(dict(data)))
        rows = [{"kind": i.kind, "title": i.title, "requirement": i.requirement, "originals": i.originals,
                 "copies": i.copies, "medium": i.medium, "source": i.source, "signature": i.signature,
                 "required": i.required, "field": i.field, "pointer": i.pointer,
                 "provided": materials_mod.provided(i, pruned)} for i in items]
        return s.ChecklistSchema().dump({"category": apps.category_of(pinned, data), "items": rows})


def invalid_data() -> ApiError:
    return ApiError(422, "invalid_data", _("The data's structure does not match the form; please check the type of "
                                           "each item"))


def _guarded(work: Callable[[], Any]) -> Any:
    """Run form/rule code over citizen data; data of the wrong shape is a 422, never a 500."""
    try:
        return work()
    except (TypeError, AttributeError, ValueError, KeyError, IndexError, RecursionError):
        raise invalid_data() from None


def type_errors(pinned, data: Any, scope: str | None = None, prefix: str = "") -> list[tuple[str, str]]:
    """Values of the wrong JSON type (a draft may be incomplete, never of the wrong shape).

    Pointers are relative to the form data, with `prefix` before them; `scope`: only
    those under that step, re-rooted at the step (`/<scope>/x` → `<prefix>/x`).
    """
    found = [e for e in pinned.validator.iter_errors(data) if e.validator == "type"]
    out = []
    for fe in translate_all(found):
        if scope is None:
            out.append((prefix + fe.pointer, fe.message))
        elif fe.pointer == f"/{scope}" or fe.pointer.startswith(f"/{scope}/"):
            out.append((prefix + fe.pointer[len(scope) + 1:], fe.message))
    return out


def _save(app_id: int, account: Account, version: int, build: Callable[..., tuple[dict[str, Any], str | None]],
          step: str | None) -> dict[str, Any]:
    factory = c.sessions()
    try:
        with factory.begin() as db:
            app = _own(db, app_id, account)
            _editable(app, account)
            pinned = load_pinned(db, app.versions)
            data, scope = build(app, {st.id for st in apps.form_of(pinned).steps()})
            problems = type_errors(pinned, data, scope, "/data")
            if problems:
                raise ApiError(422, fields=problems)
            done = _guarded(lambda: drafts_uc.save_step(services(), db, db.get_one(Account, account.id), app_id, data,
                                                        expected_version=version, step=step))
            return application_view(db, done.app)
    except apps.StaleDraft as exc:
        raise _stale_draft(factory, app_id, exc) from None


@route(f"/applications/<{ID}:app_id>/data", "PUT",
       summary=lazy("Replace all of the draft's data (saved, not checked for completeness)"), tags=[CITIZEN],
       body=s.DataReplaceSchema, responses={200: s.ApplicationSchema}, errors=(409,),
       description=lazy("A draft may be incomplete, but every value given must have the form's type; a version that"
                        " is not the current one gets 409 (changes made elsewhere are not overwritten)."))
def replace_data(app_id: int):
    """The OpenAPI description (in the catalogue) says what this operation requires and answers."""
    account = c.current_account()
    body = load_body(s.DataReplaceSchema())
    step = body.get("current_step")

    def build(app: Application, steps: set[str]):
        if step is not None and step not in steps:
            raise ApiError(422, fields=[("/current_step", _("The form has no such step"))])
        unknown = [k for k in body["data"] if k not in steps]
        if unknown:
            raise ApiError(422, fields=[(f"/data/{k}", _("The form has no such step")) for k in unknown])
        return copy.deepcopy(body["data"]), None

    return _save(app_id, account, body["version"], build, step)


@route(f"/applications/<{ID}:app_id>/steps/<step_id>", "PATCH",
       summary=lazy("Save one step of the draft (replacing that step's data)"),
       tags=[CITIZEN], body=s.StepPatchSchema, responses={200: s.ApplicationSchema}, errors=(409,))
def patch_step(app_id: int, step_id: str):
    account = c.current_account()
    body = load_body(s.StepPatchSchema())

    def build(app: Application, steps: set[str]):
        if step_id not in steps:
            raise ApiError(404)
        data = copy.deepcopy(app.data or {})
        data[step_id] = copy.deepcopy(body["data"])
        return data, step_id

    return _save(app_id, account, body["version"], build, step_id)


@route(f"/applications/<{ID}:app_id>/steps/<step_id>/validate", "POST",
       summary=lazy("Validate one step: the same field errors as the portal (nothing saved)"),
       tags=[CITIZEN], body=s.StepValidateSchema,
       body_required=False, responses={200: s.StepValidationSchema},
       description=lazy("With `data`, that step's data is validated (the other steps come from the saved draft, "
                        "conditions may cross steps); without it, the saved draft is validated."))
def validate_step(app_id: int, step_id: str):
    """The OpenAPI description (in the catalogue) says what this operation requires and answers."""
    account = c.current_account()
    raw = read_json(required=False)
    if not isinstance(raw, dict):
        raise ApiError(400, "not_object")
    body = load_with(s.StepValidateSchema(), raw)
    with c.sessions()() as db:
        app = _own(db, app_id, account)
        pinned = load_pinned(db, app.versions)
        if step_id not in {st.id for st in apps.form_of(pinned).steps()}:
            raise ApiError(404)
        data = copy.deepcopy(app.data or {})
        if "data" in body:
            data[step_id] = body["data"]
        problems = type_errors(pinned, data, step_id, f"/{step_id}")
        if problems:
            errors = [FieldError(p, m) for p, m in problems]
        else:
            errors = _guarded(lambda: apps.step_errors(pinned, data, step_id))
    return s.StepValidationSchema().dump({"step": step_id, "valid": not errors,
                                          "errors": [{"pointer": e.pointer, "message": e.message} for e in errors]})


# --------------------------------------------------------------------------- files


def _file_fields(pinned, data: dict[str, Any]) -> set[str]:
    """Dotted paths of the form's file lists (upload targets) for this data (usecases.files.file_fields)."""
    return set(_guarded(lambda: file_cases.file_fields(pinned, data)))


@route(f"/applications/<{ID}:app_id>/files", "POST",
       summary=lazy("Upload a material file (JPEG, PNG, PDF, judged by its content)"),
       tags=[CITIZEN], multipart=s.UploadFormSchema, responses={201: s.UploadResultSchema}, errors=(409,),
       description=lazy("A draft takes uploads at any time; a submitted application only during a correction (then "
                        "answer with POST correction). `field` is the file list's place in the form; `replace` true"
                        " replaces the files there (history kept)."))
def upload(app_id: int):
    """The OpenAPI description (in the catalogue) says what this operation requires and answers."""
    account = c.current_account()
    try:
        form = request.form
        files = request.files
    except RequestEntityTooLarge:
        raise ApiError(413) from None
    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise ApiError(415, message=_("Please upload files as multipart/form-data"))
    fields_in = {k: form.get(k) for k in ("field", "version", "replace") if form.get(k) is not None}
    unknown = [k for k in form if k not in ("field", "version", "replace")]
    if unknown:
        raise ApiError(422, fields=[(f"/{k}", _("Field not allowed")) for k in unknown])
    body = load_with(s.UploadFormSchema(), fields_in)
    upload_file = files.get("file")
    if upload_file is None or not upload_file.filename:
        raise ApiError(422, fields=[("/file", _("Please choose the file to upload"))])
    sent = file_cases.Upload.received(upload_file.stream, upload_file.filename, c.upload_limit())
    factory = c.sessions()
    try:
        with factory.begin() as db:
            saved = file_cases.attach_file(services(), db, db.get_one(Account, account.id), app_id, body["field"], sent,
                                           expected_version=body["version"], replace=body["replace"])
            ref = (get_path(saved.data, file_cases.path_of(body["field"])) or [{}])[-1]
            return s.UploadResultSchema().dump({"field": body["field"], "file": ref, "version": saved.version}), 201
    except file_cases.ApplicationNotFound:
        raise ApiError(404) from None
    except apps.StaleDraft as exc:
        raise _stale_draft(factory, app_id, exc) from None


def served(result: serving.Served) -> Response:
    """A file or notice with the one serving policy's headers."""
    return Response(result.body, mimetype=result.media_type, headers=result.headers)


def valid_sha(sha256: str) -> None:
    if not serving.valid_sha(sha256):
        raise serving.file_missing()


@route(f"/applications/<{ID}:app_id>/files/<sha256>", "GET",
       summary=lazy("Download a material file of my application"), tags=[CITIZEN],
       responses={200: "file"})
def download(app_id: int, sha256: str):
    with c.sessions()() as db:
        return served(serving.open_file(services(), db, c.current_account(), app_id, sha256))


# --------------------------------------------------------------------------- submit, correction, withdraw


def _idempotent(account: Account, body: Any, work: Callable[[Session], tuple[int, dict[str, Any]]]):
    key = idempotency.key_from_request()
    done = idempotency.run(c.sessions(), account.id, key, body, work)
    headers = {"Idempotent-Replayed": "true"} if done.replayed else {}
    return done.body, done.status, headers


@route(f"/applications/<{ID}:app_id>/submit", "POST",
       summary=lazy("Submit the application (full validation, checklist, duplicate household check; then review)"),
       tags=[CITIZEN], body=s.VersionSchema, responses={200: s.SubmitResultSchema}, errors=(409,), idempotent=True,
       description=lazy("A retry with the same Idempotency-Key never submits twice: same key and body returns the "
                        "first result, same key with another body 422. Incomplete: 422 (code=incomplete), with the "
                        "portal's field errors in fields (pointers into the form data)."))
def submit(app_id: int):
    """The OpenAPI description (in the catalogue) says what this operation requires and answers."""
    account = c.current_account()
    body = load_body(s.VersionSchema())
    key = request.headers.get(idempotency.HEADER)

    def work(db: Session) -> tuple[int, dict[str, Any]]:
        try:
            done = submit_case.submit(services(), db, db.get_one(Account, account.id), app_id,
                                      token=f"api:{account.id}:{key}" if key else apps.new_submit_token(),
                                      channel="api", confirm_warnings=True, expected_version=body["version"])
        except file_cases.ApplicationNotFound:
            raise ApiError(404) from None
        except apps.StaleDraft as exc:
            raise _stale_draft(c.sessions(), app_id, exc) from None
        except (TypeError, AttributeError, ValueError, KeyError, IndexError, RecursionError):
            raise invalid_data() from None
        return 200, application_view(db, done)

    return _idempotent(account, body, work)


@route(f"/applications/<{ID}:app_id>/correction", "POST",
       summary=lazy("Answer a correction request (upload the missing materials first)"), tags=[CITIZEN],
       body=s.CorrectionAnswerSchema, responses={200: s.ApplicationSchema}, errors=(409,), idempotent=True,
       description=lazy("Every file material the correction request names must be uploaded during the correction "
                        "(POST files); a correction with only an explanation needs a note; otherwise 422."))
def answer_correction(app_id: int):
    """The OpenAPI description (in the catalogue) says what this operation requires and answers."""
    account = c.current_account()
    body = load_body(s.CorrectionAnswerSchema())

    def work(db: Session) -> tuple[int, dict[str, Any]]:
        try:
            correction_case.answer_correction(services(), db, db.get_one(Account, account.id), app_id,
                                              body.get("note"), expected_version=body["version"])
        except file_cases.ApplicationNotFound:
            raise ApiError(404) from None
        return 200, application_view(db, db.get_one(Application, app_id))

    return _idempotent(account, body, work)


@route(f"/applications/<{ID}:app_id>/withdraw", "POST",
       summary=lazy("Withdraw the application (a draft or one in progress; its history is kept)"),
       tags=[CITIZEN], body=s.WithdrawSchema, responses={200: s.ApplicationSchema}, errors=(409,), idempotent=True)
def withdraw(app_id: int):
    account = c.current_account()
    body = load_body(s.WithdrawSchema())

    def work(db: Session) -> tuple[int, dict[str, Any]]:
        try:
            done = withdraw_case.withdraw(services(), db, db.get_one(Account, account.id), app_id, body.get("reason"),
                                          body.get("version"))
        except file_cases.ApplicationNotFound:
            raise ApiError(404) from None
        return 200, application_view(db, done)

    return _idempotent(account, body, work)


# --------------------------------------------------------------------------- notices


@route(f"/notices/<{ID}:notice_id>", "GET",
       summary=lazy("Download a notice (PDF): the applicant, or staff who may handle it"),
       tags=[CITIZEN], responses={200: "pdf", 409: "pending"},
       description=lazy("409 `notice_pending` with `Retry-After` (seconds) while the notice's PDF is still being "
                        "generated (it is rendered just after the action that issued it commits)."))
def notice(notice_id: int):
    with c.sessions()() as db:
        return served(serving.open_notice(services(), db, c.current_account(), notice_id))
