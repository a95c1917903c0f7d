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
from formflow.db.models import REGION_KINDS as REGION_LEVELS
from formflow.db.models import (
    Account,
    Application,
    Event,
    Notice,
    Office,
    RoleAssignment,
    StageClock,
)
from formflow.forms.formats import explain_cn_id_card, mask_id_number
from formflow.forms.render import FormSchema, StepView, attach_errors, get_path, split_path
from formflow.text.catalogue import DEFAULT_LOCALE, _, in_locale
from formflow.text.errors import Refusal
from formflow.usecases import corrections as correction_case
from formflow.usecases import files as file_cases
from formflow.usecases import submit as submit_case
from formflow.usecases import withdraw as withdraw_case
from formflow.web.context import calendar_for, formflow, packs, services, sessions
from formflow.workflow.history import EVENT_TITLES
from formflow.workflow.process import process

bp = Blueprint("portal", __name__, url_prefix="/portal")

REGION_KEY = "portal_region"
WINDOW_ROLE = "window_clerk"
STATUS_TITLES = {"draft": "草稿（未提交）", "active": "办理中", "closed": "已办结"}
RESULT_TITLES = {"approved": "审批通过", "rejected": "不予通过", "withdrawn": "已放弃", "not_accepted": "不予受理"}
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
            apps.record_consent(db, current_account(), pack_id, matter_id, str(privacy.get("version", "")), accepted)
        if not accepted:
            return render_template("portal/declined.html", pack=pack, matter=matter, privacy=privacy)
        return redirect(url_for(".region", pack_id=pack_id, matter_id=matter_id))
    return render_template("portal/consent.html", pack=pack, matter=matter, privacy=privacy)


def _consented(pack, matter_id: str) -> bool:
    privacy = pack.manifest.content.get("privacy") or {}
    with sessions()() as db:
        return apps.has_consent(db, current_account().id, pack.id, matter_id, str(privacy.get("version", "")))


@bp.route("/<pack_id>/<matter_id>/region", methods=["GET", "POST"])
@login_required
def region(pack_id: str, matter_id: str):
    """选择申请区域, narrowed down to the level that owns the workflow's first stage, then confirmed again."""
    pack, matter = _matter_or_404(pack_id, matter_id)
    if not _consented(pack, matter_id):
        return redirect(url_for(".consent", pack_id=pack_id, matter_id=matter_id))
    needed = _start_level(matter.workflow.content if matter.workflow else {})
    chosen = request.values.get("office", "")
    with sessions()() as db:
        offices = apps.selectable_offices(db, pack_id)
        office = db.get(Office, chosen) if chosen else None
        if office is not None and not _within(office, offices):
            office = None
        narrower = _region_children(db, office) if office is not None and _above(office.level, needed) else []
        listed = narrower or offices
        parents = {o.id: (db.get(Office, o.parent_id).name if o.parent_id else "") for o in [*listed, *offices]}
    if request.method == "POST":
        if office is None:
            flash("请选择申请区域", "error")
            return render_template("portal/region.html", pack=pack, matter=matter, offices=offices,
                                   parents=parents, chosen=chosen), 400
        if _above(office.level, needed):
            if not narrower:
                flash(f"{office.name}暂未开通网上受理，请选择其他区域，或到当地政务服务大厅办理", "error")
                return render_template("portal/region.html", pack=pack, matter=matter, offices=offices,
                                       parents=parents, chosen=""), 400
            return render_template("portal/region.html", pack=pack, matter=matter, offices=narrower,
                                   parents=parents, chosen="", within=office)
        if request.form.get("confirm") == "yes":
            session[REGION_KEY] = {"pack": pack_id, "matter": matter_id, "office": office.id}
            return redirect(url_for(".begin", pack_id=pack_id, matter_id=matter_id))
        return render_template("portal/region_confirm.html", pack=pack, matter=matter, office=office,
                               parent=parents.get(office.id, ""))
    return render_template("portal/region.html", pack=pack, matter=matter, offices=offices, parents=parents,
                           chosen=chosen)


def _start_level(workflow: dict[str, Any]) -> str | None:
    """The office level that acts first on an application (its region must be chosen that far down)."""
    stage = (workflow.get("stages") or {}).get(workflow.get("start")) or {}
    return (stage.get("owner") or {}).get("level")


def _above(level: str, needed: str | None) -> bool:
    """Is `level` higher up the region tree than `needed`?"""
    if needed not in REGION_LEVELS or level not in REGION_LEVELS:
        return False
    return REGION_LEVELS.index(level) < REGION_LEVELS.index(needed)


def _within(office: Office, selectable: list[Office]) -> bool:
    """A selectable region, or a region under one (reached by narrowing down)."""
    return office.kind in REGION_LEVELS and any(office.path.startswith(o.path) for o in selectable)


def _region_children(db, office: Office) -> list[Office]:
    return list(db.scalars(select(Office).where(Office.parent_id == office.id, Office.kind.in_(REGION_LEVELS))
                           .order_by(Office.id)))


@bp.route("/<pack_id>/<matter_id>/begin", methods=["GET", "POST"])
@identity_verified_required
def begin(pack_id: str, matter_id: str):
    """After consent, region (confirmed twice) and identity: open the draft (or resume it)."""
    pack, matter = _matter_or_404(pack_id, matter_id)
    account = current_account()
    with sessions()() as db:
        existing = apps.find_draft(db, account.id, pack_id, matter_id)
    if existing is not None:
        return redirect(url_for(".step", app_id=existing.id, step_id=existing.current_step or "_"))
    if not _consented(pack, matter_id):
        return redirect(url_for(".consent", pack_id=pack_id, matter_id=matter_id))
    chosen = session.get(REGION_KEY) or {}
    if chosen.get("pack") != pack_id or chosen.get("matter") != matter_id:
        return redirect(url_for(".region", pack_id=pack_id, matter_id=matter_id))
    channel = _online_channel(pack)
    identity = verified_identity() or {}
    with sessions().begin() as db:
        applicant = db.get(Account, account.id)
        app = apps.start_draft(db, packs(), applicant=applicant, pack=pack_id, matter=matter_id,
                               office_id=chosen["office"], channel=channel)
        _prefill(db, app, identity.get("id_number"))
        app_id, step_id = app.id, app.current_step
    session.pop(REGION_KEY, None)
    return redirect(url_for(".step", app_id=app_id, step_id=step_id))


def _online_channel(pack) -> str | None:
    channels = pack.manifest.content.get("channels") or []
    online = [c for c in channels if not c.get("assisted")]
    return (online or channels or [{}])[-1].get("id")


def _assisted_channels(pack) -> list[dict[str, Any]]:
    return [c for c in pack.manifest.content.get("channels") or [] if c.get("assisted")]


def _prefill(db, app: Application, id_number: str | None) -> list[str]:
    """Fill `x-source` fields from the e-licence provider (no event of its own: part of the draft's start)."""
    if not id_number:
        return []
    pinned = apps.pinned_of(db, app)
    data = copy.deepcopy(app.data)
    problems = apps.fetch_elicences(pinned, data, _elicence_provider(), id_number)
    app.data = data
    db.flush()
    return problems


# --------------------------------------------------------------------------- the wizard


def _applicant_id_number(db, app: Application) -> str | None:
    applicant = db.get(Account, app.applicant_id)
    if applicant is None or not applicant.id_number_enc:
        return None
    return _keys().open(applicant.id_number_enc)


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
            if kind == "fetch":
                id_number = _applicant_id_number(db, app)
                problems = apps.fetch_elicences(pinned, data, _elicence_provider(), id_number or "", only=arg or None)
                note = "重新获取电子证照"
            uploads = [(k, f) for k, f in request.files.items(multi=True) if f and f.filename and k.startswith("file:")]
            saved = apps.save_draft(db, app_id, data, actor=db.get(Account, account.id), expected_version=version,
                                    step=target if not errors else step_id, today=_today(), note=note,
                                    action="elicence_fetched" if kind == "fetch" else "draft_saved")
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
    from formflow.db.models import ApplicationFile, StoredFile

    with sessions()() as db:
        _load_app(db, app_id)
        row = db.scalar(select(ApplicationFile).where(ApplicationFile.application_id == app_id,
                                                      ApplicationFile.sha256 == sha256).limit(1))
        stored = db.get(StoredFile, sha256) if row else None
        if stored is None:
            abort(404)
        media = stored.media_type
    return Response(_storage().read(sha256), mimetype=media,
                    headers={"Content-Disposition": "inline", "X-Content-Type-Options": "nosniff"})


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
    account = current_account()
    with sessions()() as db:
        rows = list(db.scalars(select(Application).where(
            (Application.applicant_id == account.id) | (Application.assisted_by_id == account.id)
        ).order_by(Application.id.desc())))
        titles = {}
        for app in rows:
            pinned = apps.pinned_of(db, app)
            titles[app.id] = ((pinned.manifest.get("matter") or {}).get("title", app.matter),
                              ", ".join(_stage_titles(pinned.workflow).get(s, s) for s in app.stages or []))
        for app in rows:
            db.expunge(app)
    return render_template("portal/my.html", rows=rows, titles=titles, status_titles=STATUS_TITLES,
                           result_titles=RESULT_TITLES)


@bp.get("/applications/<int:app_id>")
@login_required
def detail(app_id: int):
    from formflow.db.models import Correction

    with sessions()() as db:
        app = _load_app(db, app_id)
        pinned = apps.pinned_of(db, app)
        workflow = pinned.workflow
        titles = _stage_titles(workflow)
        events = list(db.scalars(select(Event).where(Event.application_id == app_id).order_by(Event.id)))
        actors = {a.id: a for a in db.scalars(select(Account).where(Account.id.in_({e.actor_id for e in events})))}
        timeline = []
        for e in events:
            if e.action in QUIET_ACTIONS:
                continue
            who = actors.get(e.actor_id)
            timeline.append({
                "at": e.at, "action": ACTION_TITLES.get(e.action, _action_title(workflow, e.action)),
                "who": _who(who, e.actor_role, workflow, app), "stage": titles.get(e.to_stage or "", ""),
                "note": e.note or "",
            })
        clocks = list(db.scalars(select(StageClock).where(StageClock.application_id == app_id)
                                 .order_by(StageClock.id)))
        notices = list(db.scalars(select(Notice).where(Notice.application_id == app_id).order_by(Notice.id)))
        corrections = list(db.scalars(select(Correction).where(Correction.application_id == app_id,
                                                               Correction.answered_on.is_(None))))
        kinds = (pinned.materials or {}).get("kinds") or {}
        items = {i.kind: i for i in apps.checklist(pinned, app.data, _today())}
        correction_items = []
        for c in corrections:
            for kind in c.missing or []:
                if kind in kinds:
                    from formflow.applications.materials import field_of

                    correction_items.append({"kind": kind, "title": kinds[kind].get("title", kind),
                                             "requirement": kinds[kind].get("requirement", ""),
                                             "field": field_of(pinned.materials, kind),
                                             "upload": kind in items or True})
        withdraw_spec = (workflow.get("citizen") or {}).get("withdraw")
        process = _process(workflow)
        ctx = dict(app=app, timeline=timeline, clocks=clocks, titles=titles, notices=notices,
                   corrections=corrections, correction_items=correction_items, process=process,
                   withdraw_spec=withdraw_spec, status_titles=STATUS_TITLES, result_titles=RESULT_TITLES,
                   matter_title=(pinned.manifest.get("matter") or {}).get("title", app.matter),
                   office=db.get(Office, app.office_id) if app.office_id else None,
                   awaiting=getattr(app, "awaiting", None))
        db.expunge_all()
    return render_template("portal/detail.html", **ctx)


def _action_title(workflow: dict[str, Any], action: str) -> str:
    for st in (workflow.get("stages") or {}).values():
        if action in (st.get("actions") or {}):
            return st["actions"][action].get("title", action)
    cit = (workflow.get("citizen") or {}).get(action)
    return cit.get("title", action) if cit else action


def _who(account: Account | None, role: str | None, workflow: dict[str, Any], app: Application) -> str:
    if account is None:
        return "系统"
    if account.id == app.applicant_id:
        return "申请人"
    title = ((workflow.get("roles") or {}).get(role or "") or {}).get("title")
    return title or "工作人员"


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
        row = db.get(Notice, notice_id)
        if row is None:
            abort(404)
        _load_app(db, row.application_id)
        sha, number = row.sha256, row.number
    return Response(_storage().read(sha), mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename=notice-{notice_id}.pdf",
                             "X-Notice-Number": number.encode("utf-8").decode("latin-1", "ignore")})


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
    clerk_packs = {r.pack for r in clerk.roles if r.role == WINDOW_ROLE and r.pack}
    choices = [(p, m) for p in packs().packs.values() if not clerk_packs or p.id in clerk_packs
               for m in p.matters.values()]
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        problems = []
        name = (form.get("name") or "").strip()[:50]
        id_number = (form.get("id_number") or "").strip().upper()[:18]
        mobile = (form.get("mobile") or "").strip()[:11]
        pack_id, _, matter_id = (form.get("matter") or "").partition("/")
        office_id = form.get("office", "")
        if not name:
            problems.append("请填写申请人姓名")
        why = explain_cn_id_card(id_number)
        if why:
            problems.append(f"公民身份号码{why}")
        if pack_id not in packs().packs or matter_id not in packs().packs[pack_id].matters:
            problems.append("请选择办理事项")
        if form.get("consent") != "yes":
            problems.append("请确认申请人已阅读并同意《服务授权隐私协议》")
        if not problems:
            pack = packs().packs[pack_id]
            privacy = pack.manifest.content.get("privacy") or {}
            channels = _assisted_channels(pack)
            channel = form.get("channel") if form.get("channel") in {c["id"] for c in channels} else (
                channels[-1]["id"] if channels else None)
            try:
                with sessions().begin() as db:
                    citizen = _citizen_account(db, name, id_number, mobile, pack_id)
                    apps.record_consent(db, citizen, pack_id, matter_id, str(privacy.get("version", "")), True)
                    app = apps.start_draft(db, packs(), applicant=citizen, pack=pack_id, matter=matter_id,
                                           office_id=office_id, channel=channel, actor=db.get(Account, clerk.id),
                                           assisted_by=db.get(Account, clerk.id))
                    if app.assisted_by_id != clerk.id:
                        problems.append("该申请人已有未提交的申请草稿，请申请人本人继续填写或放弃后再办理")
                        raise apps.ApplicationError(problems[-1])
                    _prefill(db, app, id_number)
                    app_id, step_id = app.id, app.current_step
                return redirect(url_for(".step", app_id=app_id, step_id=step_id))
            except apps.ApplicationError as exc:
                if exc.message not in problems:
                    problems.append(exc.message)
        for p in problems:
            flash(p, "error")
    with sessions()() as db:
        offices = {p.id: apps.selectable_offices(db, p.id) for p, _m in choices}
        recent = list(db.scalars(select(Application).where(Application.assisted_by_id == clerk.id)
                                 .order_by(Application.id.desc()).limit(20)))
        db.expunge_all()
    return render_template("portal/window.html", choices=choices, offices=offices, form=form, recent=recent,
                           status_titles=STATUS_TITLES, assisted={p.id: _assisted_channels(p) for p, _ in choices},
                           mask=mask_id_number), (400 if request.method == "POST" else 200)


def _citizen_account(db, name: str, id_number: str, mobile: str, pack_id: str) -> Account:
    """The citizen's account found by keyed ID hash, or created (no password: signs in by SMS or identity)."""
    keys = _keys()
    digest = keys.lookup(id_number)
    account = db.scalar(select(Account).where(Account.id_number_hash == digest))
    if account is not None:
        return account
    account = Account(username=f"c-{digest[:20]}", display_name=name, password_hash=None,
                      id_number_enc=keys.seal(id_number), id_number_hash=digest)
    if mobile:
        account.mobile_enc = keys.seal(mobile)
        account.mobile_hash = keys.lookup(mobile)
    account.roles = [RoleAssignment(role="citizen", office_id=None, pack=pack_id)]
    db.add(account)
    db.flush()
    return account
