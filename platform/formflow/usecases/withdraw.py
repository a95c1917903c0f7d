"""放弃申请: one function for the portal and the API.

The row is locked before it is read. A draft is closed here (its applicant or assisting clerk);
a submitted application goes through the workflow's citizen `withdraw` action (its applicant only),
which issues the configured notice. A reviewer who acted in between (the version moved on) gives
the same `StaleApplication` refusal — code `stale`, the current stages, the same words — on
every channel; a closed application gives `NotEditable`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from formflow.applications import drafts
from formflow.applications.errors import NotEditable
from formflow.db.models import Account, Application
from formflow.text.catalogue import _
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


__all__ = ["withdraw"]
