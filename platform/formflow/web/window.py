"""The service-hall window (`/portal/window`): a clerk starts an application for a citizen who is present.

Registered on the portal's blueprint (`portal.window`); the clerk then fills and submits the
application through the portal's wizard. The checks are `usecases.start.start_at_window`'s, the
page is `usecases.window.window_page`.
"""

from __future__ import annotations

from flask import Response, redirect, render_template, request, url_for

from formflow.auth.current import current_account, role_required
from formflow.text.errors import Refusal
from formflow.usecases import start as start_uc
from formflow.usecases import window as window_uc
from formflow.web.context import services, sessions
from formflow.web.portal import REFUSAL_HEADER, WINDOW_ROLE, bp


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
    started = request.args.get("started", type=int) if request.method == "GET" else None
    with sessions()() as db:
        page = window_uc.window_page(services(), db, clerk, started)
        db.expunge_all()
    status = (refusal.status, {REFUSAL_HEADER: refusal.code}) if refusal is not None else (200,)
    return render_template("portal/window.html", page=page, choices=page.choices, regions=page.regions,
                           parents=page.parents, assisted=page.channels, form=form, recent=page.recent,
                           started=page.started, licences=page.licences, refusal=refusal), *status


@bp.get("/window/<int:app_id>/receipt.pdf")
@role_required(WINDOW_ROLE)
def window_receipt(app_id: int):
    """The receipt printed at the counter for an application this clerk assisted."""
    from formflow.usecases import printouts

    with sessions()() as db:
        served = printouts.window_receipt(services(), db, current_account(), app_id)
    return Response(served.body, mimetype=served.media_type, headers=served.headers)
