"""The outbox handler `webhook`: POST the signed body, log the attempt, raise to be retried.

Uses `requests` (already brought by the Tencent Cloud SDK, and declared). Each attempt
is a `webhook_deliveries` row, committed in a transaction of its own so a failed
attempt stays in the log although the worker rolls its transaction back.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from formflow.db.models import OutboxMessage, WebhookDelivery, WebhookSubscription
from formflow.outbox import handler, side_transaction
from formflow.text.catalogue import _
from formflow.webhooks.signing import SIGNATURE, TIMESTAMP, sign

log = logging.getLogger("formflow.webhooks")
USER_AGENT = "formflow-webhooks/1"


class WebhookFailed(Exception):
    """The receiver did not answer 2xx in time (the outbox retries with backoff)."""


@dataclass
class Attempt:
    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def timeout_seconds(settings: Any) -> float:
    value = getattr(settings, "webhook_timeout", None) or os.environ.get("FORMFLOW_WEBHOOK_TIMEOUT") or 10
    return float(value)


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def post(subscription: WebhookSubscription, body: dict[str, Any], *, delivery: str, now: float,
         timeout: float) -> Attempt:
    """One signed POST; what the receiver answered (or why there was no answer)."""
    data = encode(body)
    stamp = str(int(now))
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
               TIMESTAMP: stamp, SIGNATURE: sign(subscription.secret, stamp, data),
               "X-Formflow-Event": str(body.get("event", "")), "X-Formflow-Delivery": delivery}
    import requests

    try:
        response = requests.post(subscription.url, data=data, headers=headers, timeout=timeout,
                                 allow_redirects=False)
    except requests.Timeout:
        return Attempt(None, _("No answer within %(seconds)s seconds", seconds=timeout))
    except requests.RequestException as exc:
        return Attempt(None, _("No connection: %(error)s", error=exc.__class__.__name__))
    if 200 <= response.status_code < 300:
        return Attempt(response.status_code, None)
    return Attempt(response.status_code, _("The receiver answered %(status)s: %(text)s",
                                           status=response.status_code, text=response.text[:200]))


def record(session: Session, services: Any, row: WebhookDelivery) -> None:
    """Commit the attempt in a transaction of its own (the worker's may roll back)."""
    try:
        with side_transaction(services.sessions) as own:
            row.attempts = (own.scalar(select(func.count(WebhookDelivery.id)).where(
                WebhookDelivery.outbox_key == row.outbox_key)) or 0) + 1
            own.add(row)
    except OperationalError:  # e.g. SQLite busy under the worker's own write: log with the worker's transaction
        session.add(row)


def deliver(session: Session, services: Any, subscription: WebhookSubscription, body: dict[str, Any],
            key: str) -> Attempt:
    """POST and log; the attempt."""
    attempt = post(subscription, body, delivery=str(body.get("delivery") or key),
                   now=services.now().timestamp(), timeout=timeout_seconds(services.settings))
    record(session, services, WebhookDelivery(subscription_id=subscription.id, outbox_key=key,
                                              event=str(body.get("event", ""))[:64], status_code=attempt.status_code,
                                              at=services.now(), error=attempt.error))
    return attempt


@handler("webhook")
def deliver_webhook(session: Session, message: OutboxMessage, services: Any) -> None:
    payload = message.payload or {}
    subscription_id = payload.get("subscription_id")
    subscription = session.get(WebhookSubscription, subscription_id) if subscription_id is not None else None
    if subscription is None or not subscription.active:
        log.info("webhook %s: the subscription is gone or disabled; not sent", message.key)
        return
    attempt = deliver(session, services, subscription, dict(payload.get("body") or {}), message.key)
    if not attempt.ok:
        raise WebhookFailed(attempt.error or "")


def test_body(subscription: WebhookSubscription, now: Any) -> dict[str, Any]:
    return {"event": "test", "pack": subscription.pack, "delivery": uuid.uuid4().hex, "at": now.isoformat()}
