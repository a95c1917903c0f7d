"""Withdrawing an application: one function for the portal and the API.

The row is locked before it is read. A draft is closed here (its applicant or assisting clerk);
a submitted application goes through the workflow's citizen `withdraw` action (its applicant only),
which issues the configured notice. A reviewer who acted in between (the version moved on) gives
the same `StaleApplication` refusal — code `stale`, the current stages, the same words — on
every channel; a closed application gives `NotEditable`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from formflow.applications import drafts
from formflow.applications.errors import NotEditable
from formflow.db.models import Account, Application
from formflow.text.catalogue import DEFAULT_LOCALE, _, in_locale
from formflow.usecases.files import locked_application

REASON_LIMIT = 500


def withdraw(
    services: Any,
    db: Session,
    actor: Account,
    app_id: int,
    reason: str | None,
    expected_version: int | None,
) -> Application:
    """Withdraw (give up) the application `app_id` as `actor`; returns it, closed or moved on."""
    from formflow.workflow import engine

    app = locked_application(db, actor, app_id)
    reason = (reason or "").strip()[:REASON_LIMIT] or None
    if app.status == "draft":
        return drafts.discard_draft(db, app_id, actor=actor, expected_version=expected_version)
    if app.status != "active":
        raise NotEditable(_("This application has been closed and cannot be withdrawn."))
    engine.withdraw(db, app_id, actor, expected_version=expected_version, reason=reason, today=services.today(),
                    calendar=services.calendar(app.pack), storage=services.storage,
                    renderers=services.renderers, keys=services.keys)
    return app


@dataclass
class BeforeWithdraw:
    """What the confirmation page says before withdrawing: the consequence, in the pack's words."""

    app: Application
    spec: dict[str, Any]  # the workflow's citizen `withdraw` action (title, note, reason: required | optional)
    consequence: str
    matter_title: str


def before_withdraw(services: Any, db: Session, actor: Account, app_id: int) -> BeforeWithdraw:
    """The withdrawal's confirmation page of `actor`'s application (a closed one is refused, as `withdraw` does)."""
    from formflow.usecases.files import ApplicationNotFound

    app = db.get(Application, app_id)
    if app is None or actor is None or not drafts.may_view(app, actor):
        raise ApplicationNotFound(app_id)
    if app.status == "closed":
        raise NotEditable(_("This application has been closed and cannot be withdrawn."))
    pinned = drafts.pinned_of(db, app)
    spec = dict((pinned.workflow.get("citizen") or {}).get("withdraw") or {})
    matter = pinned.manifest.get("matter") or {}
    word = spec.get("title") or in_locale(DEFAULT_LOCALE, "Withdraw the application")  # as the pack's guide says it
    paragraph = next((line.strip() for line in str(matter.get("guide") or "").splitlines() if word in line), "")
    consequence = str(spec.get("note") or paragraph
                      or _("Once withdrawn, this application stops being handled and cannot be resumed."))
    return BeforeWithdraw(app, spec, consequence, str(matter.get("title") or app.matter))


__all__ = ["BeforeWithdraw", "before_withdraw", "withdraw"]
