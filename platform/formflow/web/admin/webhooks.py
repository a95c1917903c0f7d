"""The configurator's webhook page of a pack: subscriptions, their deliveries, add, disable, test.

Only configurators whose roles reach the pack see it (others: 404); every form
carries the CSRF token. The page parses the form, calls the use cases in
`formflow.webhooks.subscriptions` and shows what they return.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from formflow.auth.current import role_required, signed_in_account
from formflow.auth.roles import CONFIGURATOR
from formflow.db import transaction
from formflow.text.catalogue import _
from formflow.text.errors import Refusal
from formflow.web.admin import _pack, bp
from formflow.web.context import packs, services, sessions
from formflow.webhooks import subscriptions as subs


def _reach(pack_id: str) -> list[str]:
    """`[pack_id]` when the signed-in configurator configures it (the one scope rule, `auth.scope`); else 404."""
    _pack(pack_id)
    return [pack_id]


def _page(pack_id: str, *, secret: str | None = None, error: Refusal | None = None, status: int = 200):
    scope = _reach(pack_id)
    with sessions()() as db:
        rows = subs.list_subscriptions(db, scope)
        log = subs.deliveries(db, [row.id for row in rows])
    return render_template("admin/webhooks.html", pack=packs().packs[pack_id], rows=rows, deliveries=log,
                           by_id={row.id: row for row in rows}, secret=secret, error=error,
                           form=request.form if error else {}), status


@bp.get("/<pack_id>/webhooks")
@role_required(CONFIGURATOR)
def webhooks(pack_id: str):
    return _page(pack_id)


@bp.post("/<pack_id>/webhooks")
@role_required(CONFIGURATOR)
def webhook_add(pack_id: str):
    _reach(pack_id)
    account = signed_in_account()
    try:
        with transaction(sessions()) as db:
            created = subs.add(db, pack=pack_id, known_packs=list(packs().packs), url=request.form.get("url", ""),
                               kinds=request.form.get("events", ""), title=request.form.get("title", ""),
                               actor_id=account.id, demo=services().settings.load_demo)
            secret = created.secret
    except Refusal as refusal:
        return _page(pack_id, error=refusal, status=refusal.status)
    flash(_("The subscription was added. Give its secret to the partner now: it is not shown again."), "success")
    return _page(pack_id, secret=secret)


@bp.post("/<pack_id>/webhooks/<int:subscription_id>/active")
@role_required(CONFIGURATOR)
def webhook_active(pack_id: str, subscription_id: int):
    scope = _reach(pack_id)
    active = request.form.get("active") == "1"
    try:
        with transaction(sessions()) as db:
            subs.set_active(db, subscription_id, active, scope)
    except Refusal:
        abort(404)
    flash(_("The subscription is on.") if active else _("The subscription is off: no more events are sent to it."),
          "success")
    return redirect(url_for("admin.webhooks", pack_id=pack_id))


@bp.post("/<pack_id>/webhooks/<int:subscription_id>/test")
@role_required(CONFIGURATOR)
def webhook_test(pack_id: str, subscription_id: int):
    scope = _reach(pack_id)
    try:
        with transaction(sessions()) as db:
            attempt = subs.send_test(db, services(), subscription_id, scope)
    except Refusal:
        abort(404)
    if attempt.ok:
        flash(_("The test event was delivered (the receiver answered %(status)s).", status=attempt.status_code),
              "success")
    else:
        flash(_("The test event was not delivered: %(error)s", error=attempt.error or ""), "error")
    return redirect(url_for("admin.webhooks", pack_id=pack_id))
