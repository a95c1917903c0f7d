"""My messages on the portal (`/portal/messages`): the list, mark one read (and open it), mark all read.

Registered on the portal's blueprint. The header's unread badge reads `unread_messages()`,
a template function this module provides to every page.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from formflow.auth.current import current_account, login_required, signed_in_account
from formflow.text.errors import Refusal
from formflow.usecases import messages as messages_uc
from formflow.web.context import services, sessions
from formflow.web.portal import bp


@bp.app_context_processor
def _badge() -> dict:
    def unread_messages() -> int:
        account = current_account()
        if account is None:
            return 0
        with sessions()() as db:
            return messages_uc.unread_count(db, account)

    return {"unread_messages": unread_messages}


@bp.get("/messages")
@login_required
def messages():
    with sessions()() as db:
        box = messages_uc.inbox(services(), db, signed_in_account())
    return render_template("portal/messages.html", inbox=box)


def _safe_next(link: str | None) -> str:
    target = request.form.get("next") or ""
    if target and target == link and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("portal.messages")


@bp.post("/messages/<int:message_id>/read")
@login_required
def read(message_id: int):
    try:
        with sessions().begin() as db:
            view = messages_uc.mark_read(services(), db, signed_in_account(), message_id)
    except Refusal as refusal:
        abort(refusal.status)
    return redirect(_safe_next(view.link))


@bp.post("/messages/read-all")
@login_required
def read_all():
    with sessions().begin() as db:
        messages_uc.mark_all_read(services(), db, signed_in_account())
    return redirect(url_for("portal.messages"))
