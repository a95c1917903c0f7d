"""Enqueue `webhook` messages for new history events, in the transaction that writes them.

A `before_flush` listener on every session: each new `Event` (an application's
history) and `HouseholdEvent` (a household's, kind `household.<action>`) is matched
against the active subscriptions of its pack; each match is one outbox message.
The body carries ids and status only — never a name, an ID number or a note.
(The citizen notifications have a listener of their own; this one is only webhooks.)
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session

from formflow.db.models import Application, Event, Household, HouseholdEvent, WebhookSubscription, utcnow
from formflow.outbox import enqueue

KIND = "webhook"
ALL = "*"


def _iso(value: Any) -> str:
    return (value or utcnow()).isoformat()


def event_body(row: Event, application: Application) -> dict[str, Any]:
    return {"event": row.action, "pack": application.pack, "matter": application.matter,
            "application": {"id": application.id, "number": application.number},
            "from_stage": row.from_stage, "to_stage": row.to_stage, "status": application.status,
            "at": _iso(row.at)}


def household_body(row: HouseholdEvent, household: Household) -> dict[str, Any]:
    return {"event": f"household.{row.action}", "pack": household.pack, "matter": household.matter,
            "household": {"id": household.id, "code": household.code},
            "application": {"id": household.application_id},
            "from_status": row.from_status, "to_status": row.to_status, "at": _iso(row.at)}


def matches(subscription: WebhookSubscription, kind: str) -> bool:
    kinds = subscription.event_kinds or []
    return ALL in kinds or kind in kinds


def enqueue_for(session: Session, body: dict[str, Any], *, application_id: int | None) -> int:
    """One message per active subscription of the body's pack that wants its event kind."""
    subscriptions = session.scalars(_ACTIVE, {"pack": body["pack"]}).all()
    count = 0
    for subscription in subscriptions:
        if not matches(subscription, body["event"]):
            continue
        delivery = uuid.uuid4().hex
        enqueue(session, KIND, {"subscription_id": subscription.id, "body": {"delivery": delivery, **body}},
                key=f"{KIND}:{subscription.id}:{delivery}", application_id=application_id, pack=body["pack"])
        count += 1
    return count


_ACTIVE = select(WebhookSubscription).where(WebhookSubscription.pack == bindparam("pack"),
                                            WebhookSubscription.active.is_(True))


@event.listens_for(Session, "before_flush")
def _history_to_webhooks(session: Session, _context: Any, _instances: Any) -> None:
    new = [obj for obj in session.new if isinstance(obj, Event | HouseholdEvent)]
    if not new:
        return
    with session.no_autoflush:
        for row in new:
            if isinstance(row, Event):
                application = session.get(Application, row.application_id) if row.application_id else None
                if application is not None:
                    enqueue_for(session, event_body(row, application), application_id=application.id)
            else:
                household = session.get(Household, row.household_id) if row.household_id else None
                if household is not None:
                    enqueue_for(session, household_body(row, household), application_id=household.application_id)
