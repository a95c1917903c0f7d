"""Citizen portal: start page, consent, region, my applications, corrections, notices, withdrawal.

The wizard (steps, files, confirmation, submit) is `web.wizard`, the service-hall window
`web.window`; both register on this blueprint. Every page works without JavaScript (plain
POST, the server re-renders); static/portal.js only improves it (fragment re-render as the
citizen answers, the signature canvas, the confirmation dialog). No inline script: CSP.
"""

from __future__ import annotations

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

from formflow.applications import drafts as apps
from formflow.auth.current import (
    current_account,
    identity_verified_required,
    login_required,
    signed_in_account,
    verified_identity,
)
from formflow.db.models import (
    Account,
    Application,
)
from formflow.text.catalogue import _
from formflow.text.errors import Refusal
from formflow.usecases import corrections as correction_case
from formflow.usecases import files as file_cases
from formflow.usecases import serving, viewing
from formflow.usecases import start as start_uc
from formflow.usecases import withdraw as withdraw_case
from formflow.web.context import packs, services, sessions
from formflow.workflow.process import process

bp = Blueprint("portal", __name__, url_prefix="/portal")

REGION_KEY = "portal_region"
#: The refusal's code on a page that shows it (for programs and tests; the page shows the message).
REFUSAL_HEADER = "X-Refusal-Code"
WINDOW_ROLE = "window_clerk"


# --------------------------------------------------------------------------- helpers


def _matter_or_404(pack_id: str, matter_id: str):
    pack = packs().packs.get(pack_id)
    if pack is None or matter_id not in pack.matters or not pack.matters[matter_id].citizen_starts:
        abort(404)
    return pack, pack.matters[matter_id]


def _process(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    """The workflow's stages in order, with time limits (as the start page shows them)."""
    return [{"id": step["id"], "title": step["title"], "limit": step["time_limit"] or "", "owner": step["owner"] or ""}
            for step in process(workflow)]


def _load_app(db, app_id: int) -> Application:
    account = current_account()
    app = db.get(Application, app_id)
    if app is None or account is None or not apps.may_view(app, account):
        abort(404)
    return app


def _is_clerk(account: Account | None) -> bool:
    return bool(account and any(r.role == WINDOW_ROLE for r in account.roles))


# --------------------------------------------------------------------------- pages: start, consent, region


@bp.get("/")
def home():
    account = current_account()
    mine = []
    if account is not None:
        with sessions()() as db:
            mine = viewing.my_applications(services(), db, account, limit=5)
    return render_template("portal/home.html", packs=list(packs().packs.values()), mine=mine,
                           is_clerk=_is_clerk(account))


@bp.get("/<pack_id>/<matter_id>/")
def start(pack_id: str, matter_id: str):
    pack, matter = _matter_or_404(pack_id, matter_id)
    account = current_account()
    draft = None
    if account is not None:
        with sessions()() as db:
            draft = start_uc.open_draft(db, account.id, pack_id, matter_id)
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
            start_uc.record_consent(services(), db, signed_in_account(), pack_id, matter_id, accepted)
        if not accepted:
            return render_template("portal/declined.html", pack=pack, matter=matter, privacy=privacy)
        return redirect(url_for(".region", pack_id=pack_id, matter_id=matter_id))
    return render_template("portal/consent.html", pack=pack, matter=matter, privacy=privacy)


def _consented(pack, matter_id: str) -> bool:
    with sessions()() as db:
        return start_uc.has_consented(services(), db, signed_in_account().id, pack.id, matter_id)


@bp.route("/<pack_id>/<matter_id>/region", methods=["GET", "POST"])
@login_required
def region(pack_id: str, matter_id: str):
    """Choosing the region to apply in, narrowed to the level owning the first stage, then confirmed again."""
    pack, matter = _matter_or_404(pack_id, matter_id)
    if not _consented(pack, matter_id):
        return redirect(url_for(".consent", pack_id=pack_id, matter_id=matter_id))
    chosen = request.values.get("office", "")
    with sessions()() as db:
        choice = start_uc.region_choice(services(), db, pack_id, matter_id, chosen)
        db.expunge_all()
    office, offices, parents = choice.office, choice.offices, choice.parents
    page = dict(pack=pack, matter=matter, offices=offices, parents=parents, closed=choice.closed)
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
    account = signed_in_account()
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
            app = start_uc.start_application(services(), db, db.get_one(Account, account.id), pack_id, matter_id,
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


# --------------------------------------------------------------------------- my applications


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
                actor = db.get_one(Account, signed_in_account().id)
                limit, told = services().settings.upload_limit_bytes, list[str]()
                for where, f in uploads:
                    version = file_cases.attach_file(services(), db, actor, app_id, where,
                                                     file_cases.Upload.received(f.stream, f.filename, limit),
                                                     expected_version=version, told=told).version
                for message in told:
                    flash(message, "info")
        with sessions().begin() as db:
            correction_case.answer_correction(services(), db, db.get_one(Account, signed_in_account().id), app_id,
                                              request.form.get("note"), expected_version=version or 0)
    except file_cases.ApplicationNotFound:
        abort(404)
    except Refusal as exc:
        flash(exc.message, "error")
        return redirect(url_for(".detail", app_id=app_id))
    flash(_("The correction has been submitted; the review continues."), "info")
    return redirect(url_for(".detail", app_id=app_id))


@bp.get("/applications/<int:app_id>/application.pdf")
@login_required
def application_copy(app_id: int):
    """A copy of what the applicant submitted (the application form)."""
    from formflow.usecases import printouts

    with sessions()() as db:
        served = printouts.application_copy(services(), db, current_account(), app_id)
    return Response(served.body, mimetype=served.media_type, headers=served.headers)


@bp.get("/notices/<int:notice_id>.pdf")
@login_required
def notice(notice_id: int):
    with sessions()() as db:
        served = serving.open_notice(services(), db, current_account(), notice_id)
    return Response(served.body, mimetype=served.media_type, headers=served.headers)


# --------------------------------------------------------------------------- withdrawing


@bp.route("/applications/<int:app_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(app_id: int):
    if request.method == "POST":
        if request.form.get("confirm") != "yes":
            return redirect(url_for(".detail", app_id=app_id))
        try:
            with sessions().begin() as db:
                withdraw_case.withdraw(services(), db, db.get_one(Account, signed_in_account().id), app_id,
                                       request.form.get("reason"), request.form.get("_version", type=int))
        except file_cases.ApplicationNotFound:
            abort(404)
        except Refusal as exc:
            flash(exc.message, "error")
            return redirect(url_for(".detail", app_id=app_id))
        flash(_("You have withdrawn this application. Its record is kept."), "info")
        return redirect(url_for(".detail", app_id=app_id))
    try:
        with sessions()() as db:
            page = withdraw_case.before_withdraw(services(), db, db.get_one(Account, signed_in_account().id), app_id)
            db.expunge(page.app)
    except file_cases.ApplicationNotFound:
        abort(404)
    except Refusal as exc:
        flash(exc.message, "error")
        return redirect(url_for(".detail", app_id=app_id))
    return render_template("portal/withdraw.html", app=page.app, consequence=page.consequence, spec=page.spec,
                           matter_title=page.matter_title)


# The wizard and the window register their views on `bp` (imported last: they import this module).
from formflow.web import messages as _messages  # noqa: E402,F401
from formflow.web import window as _window  # noqa: E402,F401
from formflow.web import wizard as _wizard  # noqa: E402,F401
