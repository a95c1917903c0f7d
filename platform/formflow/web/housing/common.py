"""The housing blueprint's shared parts: the blueprint, who may use which part, and small helpers.

Who may use each part is the pack's decision (allocation.yaml `roles`, business
roles only: platform roles such as the configurator are refused by `formflow
check`); a role held at an office of the pack reaches the households under that
office; a role held without an office reaches nothing here. Anyone else gets 404.
Every household change goes through `formflow.allocation` in one transaction
with its history event.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from sqlalchemy import select

from formflow.allocation import register
from formflow.allocation.config import Allocation, allocation_of
from formflow.auth.current import current_account
from formflow.db.models import (
    Household,
    Office,
    RoleAssignment,
)
from formflow.text.catalogue import lazy
from formflow.text.errors import Refusal
from formflow.web.context import packs, sessions

bp = Blueprint("housing", __name__, url_prefix="/housing")

PARTS = {"waiting_list": lazy("Waiting register"), "lottery": lazy("Lottery allocation"),
         "subsidy": lazy("Rental subsidy roster"), "follow_up": lazy("Follow-up checks"),
         "dashboards": lazy("Dashboards")}
EVENT_TITLES = {
    "entered": lazy("Entered support"), "flat_offered": lazy("Flat drawn"),
    "offer_accepted": lazy("Tenancy confirmed"), "offer_declined": lazy("Offer declined"),
    "subsidy_stopped": lazy("Stop the rental subsidy"), "flat_recovered": lazy("Recover the flat"),
    "check_continued": lazy("Check: support continues"), "check_closed": lazy("Check closed"),
    "check_started": lazy("Check started"), "report_filed": lazy("Change reported"),
    "rostered": lazy("Put on the subsidy roster"),
}


# --------------------------------------------------------------------------- wiring


def _today() -> date:
    from formflow.web.context import today

    return today()


def _sync(alloc: Allocation) -> register.SyncReport:
    """Only from a POST: a GET never writes (cron runs `formflow allocation sync`)."""
    return register.sync(sessions(), packs(), today=_today(), only=alloc)


def _alloc_or_404(pack: str, matter: str) -> Allocation:
    alloc = allocation_of(packs(), pack, matter)
    if alloc is None:
        abort(404)
    return alloc


def _reach(alloc: Allocation, part: str) -> list[str] | None:
    """Office paths the signed-in account reaches for `part` (None: the whole pack); 404 if none."""
    account = current_account()
    if account is None:
        abort(404)
    allowed = alloc.roles(part)
    paths: list[str] = []
    with sessions()() as db:
        rows = db.execute(select(RoleAssignment.role, Office)
                          .outerjoin(Office, Office.id == RoleAssignment.office_id)
                          .where(RoleAssignment.account_id == account.id)).all()
    for role, office in rows:
        if role not in allowed:
            continue
        if office is not None and office.pack == alloc.pack:
            paths.append(office.path)
    if not paths:
        abort(404)
    return paths


def _within(h: Household, paths: list[str] | None) -> bool:
    return paths is None or any((h.office_path or "").startswith(p) for p in paths)


def _may(alloc: Allocation, part: str) -> bool:
    try:
        _reach(alloc, part)
    except Exception:  # noqa: BLE001 - abort(404) raises
        return False
    return True


def _login_or_redirect():
    if current_account() is None:
        return redirect(url_for("auth.login", next=request.full_path))
    return None


def _version() -> int | None:
    raw = request.form.get("expected_version")
    return int(raw) if raw and raw.isdigit() else None


def _fail(exc: Refusal, target: str):
    flash(exc.message, "error")
    return redirect(target)


def _download(data: bytes, media: str, name: str) -> Response:
    from formflow.documents.exports import download_headers

    return Response(data, mimetype=media, headers=download_headers(name))
