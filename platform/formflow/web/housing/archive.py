"""Household archives (one file per household) for staff, and the citizen's own archive with change reports."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from sqlalchemy import select

from formflow.allocation import followup
from formflow.allocation.config import EFFECT_TITLES, STATUS_TITLES, allocation_of
from formflow.auth.current import login_required, signed_in_account
from formflow.db.models import (
    Account,
    Application,
    Household,
    HouseholdCheck,
    HouseholdEvent,
)
from formflow.text.errors import Refusal
from formflow.web.context import packs, sessions
from formflow.web.housing.common import (
    EVENT_TITLES,
    _alloc_or_404,
    _fail,
    _login_or_redirect,
    _may,
    _reach,
    _within,
    bp,
)

# --------------------------------------------------------------------------- archive (one file per household)


@bp.get("/households/<int:household_id>")
def archive(household_id: int):
    if (back := _login_or_redirect()) is not None:
        return back
    with sessions()() as db:
        h = db.get(Household, household_id)
        if h is None:
            abort(404)
        alloc = _alloc_or_404(h.pack, h.matter)
        account = signed_in_account()
        own = account.id == h.applicant_id
        if not own and not any(_may(alloc, part) and _within(h, _reach(alloc, part))
                               for part in ("waiting_list", "lottery", "subsidy", "follow_up")):
            abort(404)
        events = list(db.scalars(select(HouseholdEvent).where(HouseholdEvent.household_id == h.id)
                                 .order_by(HouseholdEvent.id)))
        actors = {a.id: a.display_name for a in db.scalars(
            select(Account).where(Account.id.in_({e.actor_id for e in events if e.actor_id})))}
        checks = list(db.execute(select(HouseholdCheck, Application).join(
            Application, Application.id == HouseholdCheck.application_id)
            .where(HouseholdCheck.household_id == h.id).order_by(HouseholdCheck.id)).all())
        app = db.get(Application, h.application_id)
    return render_template("housing/archive.html", h=h, alloc=alloc, events=events, actors=actors, checks=checks,
                           app=app, own=own, status_titles=STATUS_TITLES, event_titles=EVENT_TITLES,
                           effect_titles=EFFECT_TITLES, staff=not own)


# --------------------------------------------------------------------------- the citizen's own archive


@bp.get("/mine")
@login_required
def mine():
    with sessions()() as db:
        households = list(db.scalars(select(Household).where(Household.applicant_id == signed_in_account().id)
                                     .order_by(Household.id)))
    items = []
    for h in households:
        alloc = allocation_of(packs(), h.pack, h.matter)
        if alloc is not None:
            items.append((h, alloc))
    return render_template("housing/mine.html", items=items, status_titles=STATUS_TITLES)


@bp.post("/mine/<int:household_id>/report")
@login_required
def report(household_id: int):
    with sessions()() as db:
        h = db.get(Household, household_id)
    if h is None or h.applicant_id != signed_in_account().id:
        abort(404)
    alloc = _alloc_or_404(h.pack, h.matter)
    try:
        with sessions().begin() as db:
            app = followup.start_report(db, packs(), alloc, db.get(Household, household_id), signed_in_account())
            step = app.current_step
            app_id = app.id
    except Refusal as exc:  # ApplicationError or AllocationError: both are refusals with a message
        return _fail(exc, url_for(".mine"))
    return redirect(url_for("portal.step", app_id=app_id, step_id=step))
