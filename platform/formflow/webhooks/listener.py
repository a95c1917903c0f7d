"""Enqueue `webhook` messages for new history events, in the transaction that writes them.

A `before_flush` listener on every session: each new `Event` (an application's
history) and `HouseholdEvent` (a household's, kind `household.<action>`) is matched
against the active subscriptions of its pack; each match is one outbox message.
The body carries ids and status only — never a name, an ID number or a note.
(The citizen notifications have a listener of their own; this one is only webhooks.)

A statement of the transaction that already read a pack's subscriptions (the engine's
lock) may say it has none (`none_active`): its events then skip the look-up until the
transaction ends or a subscription is written in the session.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session, object_session

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
        delivery = uuid.uuid4().hex  # a new key: no message can have it yet
        enqueue(session, KIND, {"subscription_id": subscription.id, "body": {"delivery": delivery, **body}},
                key=f"{KIND}:{subscription.id}:{delivery}", application_id=application_id, pack=body["pack"],
                fresh=True)
        count += 1
    return count


_NONE = "formflow.webhooks.none"


def none_active(session: Session, pack: str) -> None:
    """Note that `pack` had no active subscription as this transaction just read (in its own statement)."""
    transaction = session.get_transaction()
    held: tuple[Any, set[str]] | None = session.info.get(_NONE)
    if held is None or held[0] is not transaction:
        held = session.info[_NONE] = (transaction, set())
    held[1].add(pack)


def forget(session: Session | None) -> None:
    """Drop what `none_active` noted: the session wrote a subscription (or its transaction ended)."""
    if session is not None:
        session.info.pop(_NONE, None)


def _known_none(session: Session, pack: str) -> bool:
    held = session.info.get(_NONE)
    return held is not None and held[0] is session.get_transaction() and pack in held[1]


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
                if application is not None and not _known_none(session, application.pack):
                    enqueue_for(session, event_body(row, application), application_id=application.id)
            else:
                household = session.get(Household, row.household_id) if row.household_id else None
                if household is not None:
                    enqueue_for(session, household_body(row, household), application_id=household.application_id)


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        forget(session)


def _subscription_written(_mapper: Any, _connection: Any, target: WebhookSubscription) -> None:
    forget(object_session(target))


for _when in ("after_insert", "after_update", "after_delete"):
    event.listen(WebhookSubscription, _when, _subscription_written)
