"""The portal's wizard: one application's steps, saved at every step; files, signature, confirmation, submit.

The citizen fills it, or a service-hall window clerk for the citizen present (`web.window`).
Registered on the portal's blueprint (`portal.step`, `portal.confirm`, …). Every page works
without JavaScript (plain POST, the server re-renders); static/portal.js only improves it.
"""

from __future__ import annotations

import copy

from flask import Response, abort, flash, redirect, render_template, request, url_for

from formflow.applications import bounds
from formflow.applications import drafts as apps
from formflow.auth.current import current_account, login_required, signed_in_account
from formflow.db.models import Account, Application
from formflow.documents.exports import download_headers
from formflow.forms.errors import FieldError
from formflow.forms.render import get_path, set_path, split_path
from formflow.text.catalogue import _
from formflow.text.errors import NotFound, Refusal
from formflow.usecases import drafts as drafts_uc
from formflow.usecases import files as file_cases
from formflow.usecases import serving
from formflow.usecases import submit as submit_case
from formflow.usecases import wizard as wizard_uc
from formflow.usecases.identity import IdentityBound
from formflow.web.context import services, sessions
from formflow.web.portal import REFUSAL_HEADER, _is_clerk, _load_app, bp


def _stored(app_id: int) -> Application:
    """The application as stored now (detached), after a save that stored nothing."""
    with sessions()() as db:
        fresh = db.get_one(Application, app_id)
        db.expunge(fresh)
    return fresh


def _refused_at_fields(app_id: int, step_id: str, data: dict, exc: Refusal, status: int):
    """The step again with the posted values and the refusal at its fields; the refusal's code in a header."""
    flash(exc.message, "error")
    page, status = _render_step(_stored(app_id), step_id, data,
                                [FieldError(f.pointer, f.message) for f in exc.fields], status=status)
    return page, status, {REFUSAL_HEADER: exc.code}


def _render_step(app: Application, step_id: str, data, errors, *, status: int = 200, fragment: bool = False,
                 problems: list[str] | None = None):
    with sessions()() as db:
        try:
            page = wizard_uc.step_page(services(), db, db.get_one(Account, signed_in_account().id), app, step_id, data,
                                       errors, problems=problems)
        except Refusal:
            abort(404)
    template = "portal/_step.html" if fragment else "portal/step.html"
    return render_template(template, page=page, app=page.app, view=page.view, steps=page.steps, index=page.index,
                           by_field=page.by_field, checklist=page.checklist, is_last=page.is_last,
                           prev_step=page.prev_step, next_step=page.next_step, problems=page.problems,
                           provided=page.provided, letter=page.letter, matter_title=page.matter_title), status


def _may_edit_or_404(app: Application) -> None:
    if not apps.may_edit(app, signed_in_account()):
        abort(404)


@bp.get("/applications/<int:app_id>/step/<step_id>")
@login_required
def step(app_id: int, step_id: str):
    with sessions()() as db:
        app = _load_app(db, app_id)
        if app.status != "draft":
            return redirect(url_for(".detail", app_id=app_id))
        _may_edit_or_404(app)
        if step_id == "_":
            steps = apps.form_of(apps.pinned_of(db, app)).steps()
            return redirect(url_for(".step", app_id=app_id, step_id=app.current_step or steps[0].id))
        db.expunge(app)
    return _render_step(app, step_id, copy.deepcopy(app.data), [])


@bp.post("/applications/<int:app_id>/step/<step_id>/fragment")
@login_required
def fragment(app_id: int, step_id: str):
    """portal.js: the step re-rendered for the answers on screen (nothing saved)."""
    with sessions()() as db:
        app = _load_app(db, app_id)
        _may_edit_or_404(app)
        form = apps.form_of(apps.pinned_of(db, app))
        bounds.check_names(form, request.form.keys())  # list indexes within their caps (400), before parsing
        data = form.parse_post(step_id, request.form, app.data)
        db.expunge(app)
    return _render_step(app, step_id, data, [], fragment=True)


@bp.post("/applications/<int:app_id>/step/<step_id>")
@login_required
def step_post(app_id: int, step_id: str):
    action = request.form.get("_action", "save")
    version = request.form.get("_version", type=int)
    account = signed_in_account()
    with sessions()() as db:
        app = _load_app(db, app_id)
        _may_edit_or_404(app)
        pinned = apps.pinned_of(db, app)
        form = apps.form_of(pinned)
        steps = [s.id for s in form.steps()]
        if step_id not in steps:
            abort(404)
        bounds.check_names(form, request.form.keys())  # list indexes within their caps (400), before parsing
        kind_of, _colon, place = action.partition(":")
        if kind_of in ("add", "remove", "rmfile"):  # the place named must be the form's (400 otherwise)
            bounds.check_path(form, bounds.split(place.rpartition(".")[0] if kind_of == "rmfile" else place))
        data = form.parse_post(step_id, request.form, app.data)
        db.expunge(app)
    index = steps.index(step_id)
    target = step_id
    errors = []
    problems: list[str] = []
    note = None
    kind, _sep, arg = action.partition(":")
    if kind == "add":
        items = get_path(data, split_path(arg))
        items = list(items) if isinstance(items, list) else []
        items.append({})
        set_path(data, split_path(arg), items)
    elif kind == "remove":
        path = split_path(arg)
        items = get_path(data, path[:-1])
        if isinstance(items, list) and isinstance(path[-1], int) and path[-1] < len(items):
            items.pop(path[-1])
    elif kind == "next":
        with sessions()() as db:
            errors = apps.step_errors(apps.pinned_of(db, app), data, step_id)
        if not errors and index + 1 < len(steps):
            target = steps[index + 1]
    elif kind == "prev" and index > 0:
        target = steps[index - 1]
    elif kind == "goto" and arg in steps[:index]:
        target = arg
    elif kind == "submit":
        with sessions()() as db:
            errors = apps.step_errors(apps.pinned_of(db, app), data, step_id)
    # files, e-licences, signature: all change the draft in the same transaction as the save
    try:
        with sessions().begin() as db:
            uploads = [(k, f) for k, f in request.files.items(multi=True) if f and f.filename and k.startswith("file:")]
            done = drafts_uc.save_step(services(), db, db.get_one(Account, account.id), app_id, data,
                                       expected_version=version, step=target if not errors else step_id,
                                       refresh=kind == "fetch", only=arg or None, note=note)
            saved, problems = done.app, done.problems
            ver = saved.version
            limit, told = services().settings.upload_limit_bytes, list[str]()
            for key, storage_file in uploads:
                sent = file_cases.Upload.received(storage_file.stream, storage_file.filename, limit)
                saved = file_cases.attach_file(services(), db, db.get_one(Account, account.id), app_id, key[5:], sent,
                                               expected_version=ver, told=told)
                ver = saved.version
            if kind == "rmfile":
                where, _dot, idx = arg.rpartition(".")
                saved = file_cases.remove_file(services(), db, db.get_one(Account, account.id), app_id, where,
                                               int(idx) if idx.isascii() and idx.isdigit() else -1,
                                               expected_version=ver)
            data = copy.deepcopy(saved.data)
            for message in told:
                flash(message, "info")
            db.flush()
            db.expunge(saved)
            app = saved
    except apps.StaleDraft as exc:
        flash(exc.message, "error")
        app.version = _stored(app_id).version  # the page keeps the posted values; saving again overwrites knowingly
        return _render_step(app, step_id, data, [], status=409)
    except (IdentityBound, bounds.DraftOutOfBounds) as exc:  # shown at the fields; nothing stored
        return _refused_at_fields(app_id, step_id, data, exc, exc.status)
    except apps.ApplicationError as exc:  # the same code, status and fields as the API's answer; nothing stored
        return _refused_at_fields(app_id, step_id, data, exc, 400)
    if errors:
        flash(_("This step still has %(n)s items to complete or correct", n=len(errors)), "error")
        return _render_step(app, step_id, data, errors, status=422)
    if kind == "save":
        flash(_("Saved. You can go on filling it in at any time under “My applications”."), "info")
    for p in problems:
        flash(p, "error")
    if kind == "submit":
        return redirect(url_for(".confirm", app_id=app_id))
    anchor = ""
    if kind in ("add", "remove"):
        anchor = "#f-" + arg.replace(".", "-").rsplit("-", 1 if kind == "remove" else 0)[0]
    return redirect(url_for(".step", app_id=app_id, step_id=target) + anchor)


@bp.post("/applications/<int:app_id>/signature")
@login_required
def signature(app_id: int):
    """The signature canvas posts a PNG data URL: checked and re-encoded (usecases.files.save_signature)."""
    try:
        with sessions().begin() as db:
            saved = file_cases.save_signature(services(), db, db.get_one(Account, signed_in_account().id), app_id,
                                              request.form.get("field", ""), request.form.get("data_url", ""),
                                              expected_version=request.form.get("_version", type=int))
            return {"ok": True, "version": saved.version}
    except apps.StaleDraft as exc:
        return {"ok": False, "code": exc.code, "message": exc.message}, 409
    except file_cases.ApplicationNotFound:
        abort(404)
    except Refusal as exc:
        return {"ok": False, "code": exc.code, "message": exc.message}, 400


@bp.get("/applications/<int:app_id>/authorization-letter.pdf")
@login_required
def authorization_letter(app_id: int):
    """The letter filled with the applicant's data (signed if a signature is drawn), to print or keep."""
    try:
        with sessions()() as db:
            pdf = file_cases.authorization_letter(services(), db, db.get_one(Account, signed_in_account().id), app_id,
                                                  document=request.args.get("document") or None)
    except (file_cases.ApplicationNotFound, NotFound):
        abort(404)
    return Response(pdf, mimetype="application/pdf",
                    headers=download_headers(f"authorization-{app_id}.pdf"))


@bp.get("/applications/<int:app_id>/files/<sha256>")
@login_required
def file(app_id: int, sha256: str):
    with sessions()() as db:
        served = serving.open_file(services(), db, current_account(), app_id, sha256,
                                   inline=request.args.get("download") != "1")
    return Response(served.body, mimetype=served.media_type, headers=served.headers)


# --------------------------------------------------------------------------- confirm and submit


@bp.get("/applications/<int:app_id>/confirm")
@login_required
def confirm(app_id: int):
    try:
        with sessions()() as db:
            seen = submit_case.before_submit(services(), db, db.get_one(Account, signed_in_account().id), app_id)
            app = seen.app
            if app.status != "draft":
                return redirect(url_for(".detail", app_id=app_id))
            step_of = {s.id: s for s in seen.steps}
            ctx = dict(app=app, errors=[(e, step_of.get(e.path[0]) if e.path else None) for e in seen.errors],
                       check=seen.precheck, checklist=seen.checklist, provided=seen.provided,
                       token=apps.new_submit_token(), steps=seen.steps, matter_title=seen.matter_title)
            db.expunge(app)
    except file_cases.ApplicationNotFound:
        abort(404)
    return render_template("portal/confirm.html", **ctx)


@bp.post("/applications/<int:app_id>/submit")
@login_required
def submit(app_id: int):
    """Submit: usecases.submit (lock, then read, then validate); a repeat or a second tab gets a clear answer."""
    try:
        with sessions().begin() as db:
            actor = db.get_one(Account, signed_in_account().id)
            submit_case.submit(services(), db, actor, app_id, token=request.form.get("_token", ""),
                               channel="window" if _is_clerk(actor) else "portal",
                               confirm_warnings=request.form.get("confirm_warnings", "yes") == "yes",
                               expected_version=request.form.get("_version", type=int))
    except file_cases.ApplicationNotFound:
        abort(404)
    except apps.AlreadySubmitted as exc:
        flash(exc.message, "info")
        return redirect(url_for(".detail", app_id=app_id))
    except Refusal as exc:
        flash(exc.message, "error")
        return redirect(url_for(".confirm", app_id=app_id))
    flash(_("The application has been submitted. You can follow its review under “My applications”."), "info")
    return redirect(url_for(".detail", app_id=app_id))
