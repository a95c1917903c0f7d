"""Citizen portal: start page, consent, region, the wizard, submit, 我的申请, 放弃申请, window assistance.

Every page works without JavaScript (plain POST, the server re-renders);
static/portal.js only improves it (fragment re-render as the citizen answers,
the signature canvas, the confirmation dialog). No inline script: CSP.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select

from formflow.applications import drafts as apps
from formflow.auth.current import (
    current_account,
    identity_verified_required,
    login_required,
    role_required,
    verified_identity,
)
from formflow.db.models import (
    Account,
    Application,
)
from formflow.forms.errors import FieldError
from formflow.forms.formats import mask_id_number
from formflow.forms.render import FormSchema, StepView, attach_errors, get_path, split_path
from formflow.text.catalogue import DEFAULT_LOCALE, _, in_locale, lazy
from formflow.text.errors import Refusal
from formflow.usecases import corrections as correction_case
from formflow.usecases import drafts as drafts_uc
from formflow.usecases import elicences as elicences_uc
from formflow.usecases import files as file_cases
from formflow.usecases import serving, viewing
from formflow.usecases import start as start_uc
from formflow.usecases import submit as submit_case
from formflow.usecases import withdraw as withdraw_case
from formflow.usecases.identity import IdentityBound
from formflow.web.context import calendar_for, formflow, packs, services, sessions
from formflow.workflow.history import EVENT_TITLES
from formflow.workflow.process import process

bp = Blueprint("portal", __name__, url_prefix="/portal")

REGION_KEY = "portal_region"
#: The refusal's code on a page that shows it (for programs and tests; the page shows the message).
REFUSAL_HEADER = "X-Refusal-Code"
WINDOW_ROLE = "window_clerk"
STATUS_TITLES = {"draft": lazy("Draft (not submitted)"), "active": lazy("In progress"), "closed": lazy("Closed")}
RESULT_TITLES = {"approved": lazy("Approved"), "rejected": lazy("Not approved"), "withdrawn": lazy("Withdrawn"),
                 "not_accepted": lazy("Not accepted")}
ACTION_TITLES = EVENT_TITLES

#: Draft saves are many (every 暂存, 下一步, 添加…): kept in the record, left out of the citizen's 办理记录.
QUIET_ACTIONS = frozenset({"draft_saved"})


# --------------------------------------------------------------------------- helpers


def _today() -> date:
    from formflow.web.context import today

    return today()


def _keys():
    return formflow()["keys"]


def _storage():
    from formflow.web.context import services

    return services().storage


def _elicence_provider():
    from formflow.web.context import services

    return services().elicence


def _calendar(pack: str):
    return calendar_for(pack)


def _matter_or_404(pack_id: str, matter_id: str):
    pack = packs().packs.get(pack_id)
    if pack is None or matter_id not in pack.matters or not pack.matters[matter_id].citizen_starts:
        abort(404)
    return pack, pack.matters[matter_id]


def _process(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    """The workflow's stages in order, with time limits (as the start page shows them)."""
    return [{"id": step["id"], "title": step["title"], "limit": step["time_limit"] or "", "owner": step["owner"] or ""}
            for step in process(workflow)]


def _stage_titles(workflow: dict[str, Any]) -> dict[str, str]:
    return {sid: st.get("title", sid) for sid, st in (workflow.get("stages") or {}).items()}


def _load_app(db, app_id: int, *, edit: bool = False) -> Application:
    account = current_account()
    app = db.get(Application, app_id)
    if app is None or account is None or not apps.may_view(app, account):
        abort(404)
    return app


def _step_view(form: FormSchema, pinned, data: dict[str, Any], step_id: str, errors, *, hide=None) -> StepView:
    node, _hidden = form.step_node(step_id, data, hide=hide)
    summary = attach_errors(node, errors)
    return StepView(form.step(step_id), node, errors, summary)


def _materials_view(pinned, data: dict[str, Any], today: date):
    """The checklist, with where each item's data lives, and the file fields to hide (not in the category)."""
    items = apps.checklist(pinned, data, today)
    upload_path = (pinned.materials or {}).get("upload_path")
    listed = {i.field for i in items}
    hide = set()
    if upload_path:
        for kind in (pinned.materials.get("kinds") or {}):
            dotted = f"{upload_path}.{kind}"
            if dotted not in listed and not get_path(data, split_path(dotted)):
                hide.add(dotted)
    by_field = {i.field: i for i in items}
    return items, by_field, hide


def _render_step(app: Application, step_id: str, data: dict[str, Any], errors, *, status: int = 200,
                 fragment: bool = False, problems: list[str] | None = None):
    with sessions()() as db:
        pinned = apps.pinned_of(db, app)
        form = apps.form_of(pinned)
        steps = form.steps()
        if step_id not in [s.id for s in steps]:
            abort(404)
        today = _today()
        items, by_field, hide = _materials_view(pinned, data, today)
        view = _step_view(form, pinned, data, step_id, errors, hide=hide)
        index = [s.id for s in steps].index(step_id)
        ctx = dict(
            app=app, view=view, steps=steps, index=index, by_field=by_field, checklist=items,
            is_last=index == len(steps) - 1, prev_step=steps[index - 1].id if index else None,
            next_step=steps[index + 1].id if index + 1 < len(steps) else None, problems=problems or [],
            provided={i.field: _provided(i, data) for i in items},
            letter=_letter_available(pinned),
            matter_title=(pinned.manifest.get("matter") or {}).get("title", app.matter),
        )
    template = "portal/_step.html" if fragment else "portal/step.html"
    return render_template(template, **ctx), status


def _provided(item, data) -> bool:
    from formflow.applications.materials import provided

    return provided(item, data)


def _letter_available(pinned) -> bool:
    kinds = (pinned.materials or {}).get("kinds") or {}
    return any(k.get("signature") for k in kinds.values())


# --------------------------------------------------------------------------- pages: start, consent, region


@bp.get("/")
def home():
    account = current_account()
    mine = []
    if account is not None:
        with sessions()() as db:
            mine = list(db.scalars(select(Application).where(Application.applicant_id == account.id)
                                   .order_by(Application.id.desc()).limit(5)))
    return render_template("portal/home.html", packs=list(packs().packs.values()), mine=mine,
                           status_titles=STATUS_TITLES, is_clerk=_is_clerk(account))


def _is_clerk(account: Account | None) -> bool:
    return bool(account and any(r.role == WINDOW_ROLE for r in account.roles))


@bp.get("/<pack_id>/<matter_id>/")
def start(pack_id: str, matter_id: str):
    pack, matter = _matter_or_404(pack_id, matter_id)
    account = current_account()
    draft = None
    if account is not None:
        with sessions()() as db:
            draft = apps.find_draft(db, account.id, pack_id, matter_id)
    return render_template(
        "portal/start.html", pack=pack, matter=matter, process=_process(matter.workflow.content),
        commitment=(matter.workflow.content or {}).get("commitment"), draft=draft,
        channels=pack.manifest.content.get("channels") or [],
    )


@bp.route("/<pack_id>/<matter_id>/consent", methods=["GET", "POST"])
@login_required
def consent(pack_id: str, matter_id: str):
    pack, matter = _matter_or_404(pack_id, matter_id)
    privacy = pack.manifest.content.get("privacy") or {}
    if request.method == "POST":
        accepted = request.form.get("decision") == "accept"
        with sessions().begin() as db:
            start_uc.record_consent(services(), db, current_account(), pack_id, matter_id, accepted)
        if not accepted:
            return render_template("portal/declined.html", pack=pack, matter=matter, privacy=privacy)
        return redirect(url_for(".region", pack_id=pack_id, matter_id=matter_id))
    return render_template("portal/consent.html", pack=pack, matter=matter, privacy=privacy)


def _consented(pack, matter_id: str) -> bool:
    with sessions()() as db:
        return start_uc.has_consented(services(), db, current_account().id, pack.id, matter_id)


@bp.route("/<pack_id>/<matter_id>/region", methods=["GET", "POST"])
@login_required
def region(pack_id: str, matter_id: str):
    """选择申请区域, narrowed down to the level that owns the workflow's first stage, then confirmed again."""
    pack, matter = _matter_or_404(pack_id, matter_id)
    if not _consented(pack, matter_id):
        return redirect(url_for(".consent", pack_id=pack_id, matter_id=matter_id))
    chosen = request.values.get("office", "")
    with sessions()() as db:
        choice = start_uc.region_choice(services(), db, pack_id, matter_id, chosen)
        db.expunge_all()
    office, offices, parents = choice.office, choice.offices, choice.parents
    page = dict(pack=pack, matter=matter, offices=offices, parents=parents)
    if request.method == "POST":
        if office is None:
            flash(_("Please choose the application region"), "error")
            return render_template("portal/region.html", **page, chosen=chosen), 400
        if choice.narrower is not None:
            if not choice.narrower:
                flash(_("%(region)s does not accept applications online yet; please choose another region, or "
                        "apply at the local government service hall", region=office.name), "error")
                return render_template("portal/region.html", **page, chosen=""), 400
            return render_template("portal/region.html", **{**page, "offices": choice.narrower}, chosen="",
                                   within=office)
        if request.form.get("confirm") == "yes":
            session[REGION_KEY] = {"pack": pack_id, "matter": matter_id, "office": office.id}
            return redirect(url_for(".begin", pack_id=pack_id, matter_id=matter_id))
        return render_template("portal/region_confirm.html", pack=pack, matter=matter, office=office,
                               parent=parents.get(office.id, ""))
    return render_template("portal/region.html", **page, chosen=chosen)


@bp.route("/<pack_id>/<matter_id>/begin", methods=["GET", "POST"])
@identity_verified_required
def begin(pack_id: str, matter_id: str):
    """After consent, region (confirmed twice) and identity: open the draft (or resume it)."""
    pack, matter = _matter_or_404(pack_id, matter_id)
    account = current_account()
    with sessions()() as db:
        existing = start_uc.open_draft(db, account.id, pack_id, matter_id)
    if existing is not None:
        return redirect(url_for(".step", app_id=existing.id, step_id=existing.current_step or "_"))
    if not _consented(pack, matter_id):
        return redirect(url_for(".consent", pack_id=pack_id, matter_id=matter_id))
    chosen = session.get(REGION_KEY) or {}
    if chosen.get("pack") != pack_id or chosen.get("matter") != matter_id:
        return redirect(url_for(".region", pack_id=pack_id, matter_id=matter_id))
    try:
        with sessions().begin() as db:
            app = start_uc.start_application(services(), db, db.get(Account, account.id), pack_id, matter_id,
                                             chosen["office"], channel=None, identity=verified_identity())
            app_id, step_id = app.id, app.current_step
    except Refusal as exc:
        session.pop(REGION_KEY, None)
        if exc.code == "consent_required":
            return redirect(url_for(".consent", pack_id=pack_id, matter_id=matter_id))
        with sessions()() as db:
            choice = start_uc.region_choice(services(), db, pack_id, matter_id, None)
            db.expunge_all()
        return render_template("portal/region.html", pack=pack, matter=matter, offices=choice.offices,
                               parents=choice.parents, chosen="", refusal=exc), exc.status, {REFUSAL_HEADER: exc.code}
    session.pop(REGION_KEY, None)
    return redirect(url_for(".step", app_id=app_id, step_id=step_id))


def _assisted_channels(pack) -> list[dict[str, Any]]:
    return start_uc.channels(pack, assisted=True)


# --------------------------------------------------------------------------- the wizard


def _applicant_id_number(db, app: Application) -> str | None:
    return elicences_uc.applicant_id_number(services(), db, app)


def _may_edit_or_404(app: Application) -> None:
    account = current_account()
    if not apps.may_edit(app, account):
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
        data = form.parse_post(step_id, request.form, app.data)
        db.expunge(app)
    return _render_step(app, step_id, data, [], fragment=True)


@bp.post("/applications/<int:app_id>/step/<step_id>")
@login_required
def step_post(app_id: int, step_id: str):
    action = request.form.get("_action", "save")
    version = request.form.get("_version", type=int)
    account = current_account()
    with sessions()() as db:
        app = _load_app(db, app_id)
        _may_edit_or_404(app)
        pinned = apps.pinned_of(db, app)
        form = apps.form_of(pinned)
        steps = [s.id for s in form.steps()]
        if step_id not in steps:
            abort(404)
        data = form.parse_post(step_id, request.form, app.data)
        db.expunge(app)
    index = steps.index(step_id)
    target = step_id
    errors = []
    problems: list[str] = []
    note = None
    kind, _, arg = action.partition(":")
    if kind == "add":
        items = get_path(data, split_path(arg))
        items = list(items) if isinstance(items, list) else []
        items.append({})
        from formflow.forms.render import set_path

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
            done = drafts_uc.save_step(services(), db, db.get(Account, account.id), app_id, data,
                                       expected_version=version, step=target if not errors else step_id,
                                       refresh=kind == "fetch", only=arg or None, note=note)
            saved, problems = done.app, done.problems
            ver = saved.version
            for key, storage_file in uploads:
                saved = file_cases.attach_file(services(), db, db.get(Account, account.id), app_id, key[5:],
                                               file_cases.Upload(storage_file.read(), storage_file.filename),
                                               expected_version=ver)
                ver = saved.version
            if kind == "rmfile":
                where, _dot, idx = arg.rpartition(".")
                saved = file_cases.remove_file(services(), db, db.get(Account, account.id), app_id, where,
                                               int(idx) if idx.isdigit() else -1, expected_version=ver)
            data = copy.deepcopy(saved.data)
            db.flush()
            db.expunge(saved)
            app = saved
    except apps.StaleDraft as exc:
        flash(exc.message, "error")
        with sessions()() as db:
            fresh = db.get(Application, app_id)
            db.expunge(fresh)
        app.version = fresh.version  # the page keeps the posted values; saving again overwrites knowingly
        return _render_step(app, step_id, data, [], status=409)
    except IdentityBound as exc:  # shown at the fields; nothing stored
        flash(exc.message, "error")
        with sessions()() as db:
            fresh = db.get(Application, app_id)
            db.expunge(fresh)
        page, status = _render_step(fresh, step_id, data, [FieldError(f.pointer, f.message) for f in exc.fields],
                                    status=exc.status)
        return page, status, {REFUSAL_HEADER: exc.code}
    except apps.ApplicationError as exc:
        flash(exc.message, "error")
        with sessions()() as db:
            fresh = db.get(Application, app_id)
            db.expunge(fresh)
        return _render_step(fresh, step_id, data, [], status=400)
    if errors:
        flash(f"本步还有 {len(errors)} 处需要补充或修改", "error")
        return _render_step(app, step_id, data, errors, status=422)
    if kind == "save":
        flash("已暂存。您可以随时在“我的申请”中继续填写。", "info")
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
            saved = file_cases.save_signature(services(), db, db.get(Account, current_account().id), app_id,
                                              request.form.get("field", ""), request.form.get("data_url", ""),
                                              expected_version=request.form.get("_version", type=int))
            return {"ok": True, "version": saved.version}
    except apps.StaleDraft as exc:
        return {"ok": False, "message": exc.message}, 409
    except file_cases.ApplicationNotFound:
        abort(404)
    except Refusal as exc:
        return {"ok": False, "message": exc.message}, 400


@bp.get("/applications/<int:app_id>/authorization-letter.pdf")
@login_required
def authorization_letter(app_id: int):
    """The letter filled with the applicant's data (signed if a signature is drawn), to print or keep."""
    try:
        with sessions()() as db:
            pdf = file_cases.authorization_letter(services(), db, db.get(Account, current_account().id), app_id)
    except file_cases.ApplicationNotFound:
        abort(404)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename=authorization-{app_id}.pdf"})


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
            seen = submit_case.before_submit(services(), db, db.get(Account, current_account().id), app_id)
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
    """直接提交: usecases.submit (lock, then read, then validate); a repeat or a second tab gets a clear answer."""
    try:
        with sessions().begin() as db:
            actor = db.get(Account, current_account().id)
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


# --------------------------------------------------------------------------- 我的申请


@bp.get("/my")
@login_required
def my():
    with sessions()() as db:
        rows = viewing.my_applications(services(), db, current_account())
    return render_template("portal/my.html", rows=rows)


@bp.get("/applications/<int:app_id>")
@login_required
def detail(app_id: int):
    with sessions()() as db:
        view = viewing.citizen_view(services(), db, current_account(), app_id)
    return render_template("portal/detail.html", view=view, app=view.app)


@bp.post("/applications/<int:app_id>/correction")
@login_required
def correction(app_id: int):
    """Answer a correction request: the files posted are attached first (and kept), then the answer is given."""
    version = request.form.get("_version", type=int)
    uploads = [(k[5:], f) for k, f in request.files.items(multi=True) if f and f.filename and k.startswith("file:")]
    try:
        if uploads:
            with sessions().begin() as db:
                actor = db.get(Account, current_account().id)
                for where, f in uploads:
                    version = file_cases.attach_file(services(), db, actor, app_id, where,
                                                     file_cases.Upload(f.read(), f.filename),
                                                     expected_version=version).version
        with sessions().begin() as db:
            correction_case.answer_correction(services(), db, db.get(Account, current_account().id), app_id,
                                              request.form.get("note"), expected_version=version or 0)
    except file_cases.ApplicationNotFound:
        abort(404)
    except Refusal as exc:
        flash(exc.message, "error")
        return redirect(url_for(".detail", app_id=app_id))
    flash(_("The correction has been submitted; the review continues."), "info")
    return redirect(url_for(".detail", app_id=app_id))


@bp.get("/notices/<int:notice_id>.pdf")
@login_required
def notice(notice_id: int):
    with sessions()() as db:
        served = serving.open_notice(services(), db, current_account(), notice_id)
    return Response(served.body, mimetype=served.media_type, headers=served.headers)


# --------------------------------------------------------------------------- 放弃申请


@bp.route("/applications/<int:app_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(app_id: int):
    with sessions()() as db:
        app = _load_app(db, app_id)
        pinned = apps.pinned_of(db, app)
        spec = (pinned.workflow.get("citizen") or {}).get("withdraw") or {}
        matter = pinned.manifest.get("matter") or {}
        db.expunge(app)
    word = spec.get("title") or in_locale(DEFAULT_LOCALE, "Withdraw the application")  # looked up in the pack's guide
    consequence = spec.get("note") or _guide_paragraph(matter.get("guide") or "", word)
    if request.method == "POST":
        if request.form.get("confirm") != "yes":
            return redirect(url_for(".detail", app_id=app_id))
        try:
            with sessions().begin() as db:
                withdraw_case.withdraw(services(), db, db.get(Account, current_account().id), app_id,
                                       request.form.get("reason"), request.form.get("_version", type=int))
        except file_cases.ApplicationNotFound:
            abort(404)
        except Refusal as exc:
            flash(exc.message, "error")
            return redirect(url_for(".detail", app_id=app_id))
        flash(_("You have withdrawn this application. Its record is kept."), "info")
        return redirect(url_for(".detail", app_id=app_id))
    if app.status == "closed":
        flash(_("This application has been closed and cannot be withdrawn."), "error")
        return redirect(url_for(".detail", app_id=app_id))
    return render_template("portal/withdraw.html", app=app, consequence=consequence, spec=spec,
                           matter_title=matter.get("title", app.matter))


def _guide_paragraph(guide: str, word: str) -> str:
    for line in guide.splitlines():
        if word in line:
            return line.strip()
    return "放弃申请后，本次申请将终止办理，且不能恢复。"


# --------------------------------------------------------------------------- service-hall window


@bp.route("/window", methods=["GET", "POST"])
@role_required(WINDOW_ROLE)
def window():
    """A window clerk starts an application for a citizen who is present."""
    clerk = current_account()
    form = request.form if request.method == "POST" else {}
    refusal = None
    if request.method == "POST":
        pack_id, _sep, matter_id = (form.get("matter") or "").partition("/")
        try:
            with sessions().begin() as db:
                app = start_uc.start_at_window(
                    services(), db, clerk, pack_id=pack_id, matter_id=matter_id,
                    region_office_id=form.get("office", ""), name=form.get("name", ""),
                    id_number=form.get("id_number", ""), mobile=form.get("mobile", ""),
                    consented=form.get("consent") == "yes", channel=form.get("channel") or None)
                app_id = app.id
            return redirect(url_for(".window", started=app_id))
        except Refusal as exc:
            refusal = exc
    started, licences = None, []
    with sessions()() as db:
        choices = start_uc.window_choices(services(), db, clerk)
        regions = list({(p.id, o.id): (p, o) for p, m in choices
                        for o in start_uc.owning_regions(services(), db, p.id, m.id)}.values())
        parents = start_uc.parent_names(db, [o for _p, o in regions])
        if request.method == "GET" and request.args.get("started", type=int):
            started, licences = start_uc.window_started(services(), db, clerk, request.args.get("started", type=int))
        recent = list(db.scalars(select(Application).where(Application.assisted_by_id == clerk.id)
                                 .order_by(Application.id.desc()).limit(20)))
        db.expunge_all()
    return render_template("portal/window.html", choices=choices, regions=regions, parents=parents, form=form,
                           recent=recent, started=started, licences=licences, status_titles=STATUS_TITLES,
                           assisted={p.id: _assisted_channels(p) for p, _m in choices},
                           refusal=refusal, mask=mask_id_number), *((refusal.status, {REFUSAL_HEADER: refusal.code})
                                                                     if refusal is not None else (200,))


def _citizen_account(db, name: str, id_number: str, mobile: str, pack_id: str) -> Account:
    """The citizen's account found by keyed ID hash, or created (no password: signs in by SMS or identity)."""
    return start_uc.window_citizen(services(), db, name, id_number, mobile, pack_id)
