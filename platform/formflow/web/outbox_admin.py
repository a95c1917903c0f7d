"""The outbox admin page: counts by kind and status, failing and dead messages, retry (confirmed POST).

Seen by the same roles as the other admin pages (configurator, system
administrator; anyone else signed in gets 404). Never shows a payload (it may
carry personal data): kind, attempts, times, the last error. The work is in
`formflow.outbox.admin`, shared with `formflow outbox`.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from formflow.auth.current import role_required
from formflow.auth.roles import ADMIN, CONFIGURATOR
from formflow.outbox import admin as outbox_admin
from formflow.text import formatting as fmt
from formflow.text.catalogue import _, lazy
from formflow.text.errors import Refusal
from formflow.web.context import sessions

bp = Blueprint("outbox_admin", __name__, url_prefix="/admin/outbox")

STATUS_TITLES = {"pending": lazy("Waiting to be delivered"), "done": lazy("Delivered"), "dead": lazy("Dead")}


@bp.get("/")
@role_required(CONFIGURATOR, ADMIN)
def index():
    with sessions()() as db:
        kinds = outbox_admin.counts(db)
        failed = outbox_admin.failures(db)
    return render_template("admin/outbox.html", kinds=kinds, failed=failed, status_titles=STATUS_TITLES,
                           when=fmt.local_time)


@bp.route("/<int:message_id>/retry", methods=["GET", "POST"])
@role_required(CONFIGURATOR, ADMIN)
def retry(message_id: int):
    """GET asks for confirmation (writes nothing); the confirmed POST makes the message due again."""
    if request.method == "POST" and request.form.get("confirmed") == "1":
        try:
            with sessions().begin() as db:
                outbox_admin.retry(db, message_id)
        except Refusal as exc:
            flash(exc.message, "error")
        else:
            flash(_("Message %(id)s will be delivered again shortly.", id=message_id), "ok")
        return redirect(url_for(".index"))
    with sessions()() as db:
        failure = next((f for f in outbox_admin.failures(db, limit=1000) if f.id == message_id), None)
    if failure is None:
        flash(_("Outbox message %(id)s has not failed; there is nothing to retry", id=message_id), "error")
        return redirect(url_for(".index"))
    return render_template("admin/outbox_retry.html", failure=failure, status_titles=STATUS_TITLES)
