"""The auditor's pages: the security log, and its CSV export.

Also the app-wide rules that keep the three roles apart and personal data out of caches:
an auditor gets 403 on the desk, housing and configuration pages; pages of the areas that
show personal data answer `Cache-Control: no-store`; each download from the staff areas
(an export of personal data) is written to the security log.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from formflow.auth import seclog
from formflow.auth.current import current_account
from formflow.text.errors import Refusal
from formflow.usecases import audit
from formflow.web.context import sessions

bp = Blueprint("audit", __name__, url_prefix="/audit")

#: areas holding application data or configuration: an auditor may not open them
KEPT_FROM_AUDITORS = frozenset({"desk", "housing", "admin", "portal"})
#: areas whose pages carry personal data: never stored by a browser or proxy cache
NO_STORE_AREAS = frozenset({"desk", "housing", "admin", "portal", "audit", "auth"})  # the API sets its own
#: areas whose downloads are exports of personal data (logged)
EXPORT_AREAS = frozenset({"desk", "housing"})


def init_app(app: Flask) -> None:
    app.before_request(_keep_auditors_out)
    app.after_request(_no_store_and_exports)


def _address() -> str:
    return request.remote_addr or "unknown"


def _keep_auditors_out() -> None:
    if request.blueprint in KEPT_FROM_AUDITORS and current_user.is_authenticated:
        if audit.is_auditor(current_account()):
            abort(403)


def _no_store_and_exports(response: Response) -> Response:
    if request.blueprint in NO_STORE_AREAS and "no-store" not in (response.headers.get("Cache-Control") or ""):
        response.headers["Cache-Control"] = "no-store"
    if (request.blueprint in EXPORT_AREAS and response.status_code == 200
            and response.headers.get("Content-Disposition", "").startswith("attachment")):
        account = current_account()
        with sessions().begin() as db:
            seclog.record(db, seclog.EXPORT, actor=account, address=_address(), subject=str(request.endpoint),
                          detail=request.full_path[:500])
    return response


def _auditor():
    account = current_account()
    if account is None:
        return None, redirect(url_for("auth.login", next=request.full_path))
    return account, None


def _filters() -> tuple[str | None, int]:
    days = request.args.get("days", "30")
    return request.args.get("kind") or None, int(days) if days.isdigit() else 30


@bp.get("/")
def log():
    account, away = _auditor()
    if away is not None:
        return away
    kind, days = _filters()
    try:
        with sessions()() as db:
            lines = audit.security_log(db, account, kind=kind, days=days)
    except Refusal as exc:
        abort(exc.status)
    return render_template("audit/log.html", lines=lines, kinds=audit.kind_choices(), kind=kind, days=days)


@bp.get("/log.csv")
def export():
    account, away = _auditor()
    if away is not None:
        return away
    kind, days = _filters()
    try:
        with sessions().begin() as db:
            data = audit.security_log_csv(db, account, address=_address(), kind=kind, days=days)
    except Refusal as exc:
        abort(exc.status)
    return Response(data, mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=security-log.csv", "Cache-Control": "no-store"})
