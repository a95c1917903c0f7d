"""The webhook use cases: list, add, disable, remove and test a pack's subscriptions.

The admin page and `formflow webhooks` parse their input and call these; each
refuses with a `Refusal` naming the field. A new subscription's secret is made
here (or given) and shown once; it is kept sealed.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from formflow.db.models import WebhookDelivery, WebhookSubscription
from formflow.text.catalogue import _
from formflow.text.errors import FieldProblem, Refusal
from formflow.webhooks.delivery import Attempt, deliver, test_body
from formflow.webhooks.listener import ALL

LOOPBACK = {"localhost"}
#: what a Chinese keyboard types between event kinds
FULLWIDTH_COMMA = chr(0xFF0C)


@dataclass
class Created:
    subscription: WebhookSubscription
    secret: str


def _refusal(message: str, code: str, field: str) -> Refusal:
    return Refusal(message, code=code, status=400, fields=[FieldProblem(f"/{field}", message)])


def _loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, demo: bool) -> str:
    """An https:// address (http:// only to this machine or in a demo deployment)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refusal(_("The address must start with https://"), "webhook_url", "url")
    if parts.scheme == "http" and not (demo or _loopback(parts.hostname)):
        raise _refusal(_("The address must start with https:// (the events leave this server)"), "webhook_url", "url")
    if len(url) > 500:
        raise _refusal(_("The address is too long (500 characters at most)"), "webhook_url", "url")
    return url


def parse_kinds(raw: str | list[str]) -> list[str]:
    """"submit, approve" → ["submit", "approve"]; empty or "*" → every event."""
    parts = raw if isinstance(raw, list) else raw.replace(FULLWIDTH_COMMA, ",").replace(" ", ",").split(",")
    kinds = sorted({p.strip() for p in parts if p and p.strip()})
    return [ALL] if not kinds or ALL in kinds else kinds


def list_subscriptions(session: Session, packs: list[str] | None = None) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).order_by(WebhookSubscription.pack, WebhookSubscription.id)
    if packs is not None:
        query = query.where(WebhookSubscription.pack.in_(packs))
    return list(session.scalars(query))


def get(session: Session, subscription_id: int, packs: list[str] | None = None) -> WebhookSubscription:
    """The subscription, or 404 when it does not exist or is outside `packs`."""
    found = session.get(WebhookSubscription, subscription_id)
    if found is None or (packs is not None and found.pack not in packs):
        raise Refusal(_("There is no such webhook subscription"), code="not_found", status=404)
    return found


def add(session: Session, *, pack: str, known_packs: list[str], url: str, kinds: str | list[str],
        title: str = "", secret: str | None = None, actor_id: int | None = None, demo: bool = False) -> Created:
    if pack not in known_packs:
        raise _refusal(_("There is no pack \"%(pack)s\"", pack=pack), "webhook_pack", "pack")
    if secret is not None and len(secret) < 16:
        raise _refusal(_("The secret must have at least 16 characters"), "webhook_secret", "secret")
    made = secret or secrets.token_urlsafe(32)
    row = WebhookSubscription(pack=pack, event_kinds=parse_kinds(kinds), url=check_url(url, demo=demo),
                              secret=made, title=(title or "").strip()[:200] or None, active=True,
                              created_by=actor_id)
    session.add(row)
    session.flush()
    return Created(row, made)


def set_active(session: Session, subscription_id: int, active: bool, packs: list[str] | None = None
               ) -> WebhookSubscription:
    row = get(session, subscription_id, packs)
    row.active = active
    return row


def remove(session: Session, subscription_id: int, packs: list[str] | None = None) -> None:
    """Delete the subscription and its delivery log (messages still queued for it are dropped)."""
    row = get(session, subscription_id, packs)
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == row.id))
    session.delete(row)


def deliveries(session: Session, subscription_ids: list[int], limit: int = 50) -> list[WebhookDelivery]:
    if not subscription_ids:
        return []
    return list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.subscription_id.in_(subscription_ids))
                                .order_by(WebhookDelivery.id.desc()).limit(limit)))


def send_test(session: Session, services: Any, subscription_id: int, packs: list[str] | None = None) -> Attempt:
    """POST a signed `test` event now (not through the outbox: the answer is shown at once) and log it."""
    row = get(session, subscription_id, packs)
    body = test_body(row, services.now())
    return deliver(session, services, row, body, f"webhook-test:{row.id}:{body['delivery']}")
