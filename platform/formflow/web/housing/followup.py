"""Follow-up check campaigns."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from formflow.allocation import followup
from formflow.allocation.config import STATUS_TITLES
from formflow.allocation.register import AllocationError
from formflow.auth.current import signed_in_account
from formflow.db.models import (
    Application,
    CheckCampaign,
    Household,
    HouseholdCheck,
)
from formflow.web.context import packs, services, sessions
from formflow.web.housing.common import (
    _alloc_or_404,
    _login_or_redirect,
    _reach,
    _sync,
    _today,
    _within,
    bp,
)

# --------------------------------------------------------------------------- follow-up


@bp.route("/<pack>/<matter>/follow-up", methods=["GET", "POST"])
def follow_up(pack: str, matter: str):
    if (back := _login_or_redirect()) is not None:
        return back
    alloc = _alloc_or_404(pack, matter)
    paths = _reach(alloc, "follow_up")
    if request.method == "POST":
        _sync(alloc)

        try:
            with sessions().begin() as db:
                campaign = followup.start_campaign(
                    db, packs(), alloc, title=request.form.get("title", ""), kind=request.form.get("kind", ""),
                    modes=request.form.getlist("modes"), actor=signed_in_account(), today=_today(),
                    calendar=services().calendar(pack),
                    note=request.form.get("note") or None, paths=paths)
            return redirect(url_for(".campaign", campaign_id=campaign.id))
        except AllocationError as exc:
            flash(exc.message, "error")
    with sessions()() as db:
        campaigns = list(db.scalars(select(CheckCampaign).where(CheckCampaign.pack == pack,
                                                                CheckCampaign.matter == matter)
                                    .order_by(CheckCampaign.id.desc())))
    modes = [(m, alloc.mode_title(m)) for m, spec in alloc.modes.items() if spec.get("follow_up")]
    return render_template("housing/follow_up.html", alloc=alloc, campaigns=campaigns, modes=modes,
                           kinds=followup.CAMPAIGN_KINDS)


@bp.get("/follow-up/<int:campaign_id>")
def campaign(campaign_id: int):
    if (back := _login_or_redirect()) is not None:
        return back
    with sessions()() as db:
        found = db.get(CheckCampaign, campaign_id)
        if found is None:
            abort(404)
        alloc = _alloc_or_404(found.pack, found.matter)
        paths = _reach(alloc, "follow_up")
        rows = [(c, a, h) for c, a, h in db.execute(
            select(HouseholdCheck, Application, Household)
            .join(Application, Application.id == HouseholdCheck.application_id)
            .join(Household, Household.id == HouseholdCheck.household_id)
            .where(HouseholdCheck.campaign_id == found.id).order_by(Household.code)).all() if _within(h, paths)]
    return render_template("housing/campaign.html", alloc=alloc, campaign=found, rows=rows,
                           kinds=followup.CAMPAIGN_KINDS, status_titles=STATUS_TITLES)
