"""The outbox handler `sms`: a citizen's or a reviewer's message, sent to the account's mobile.

Payload (written by the notifications): `{"account_id", "message_kind", "params", "text"}`,
key `sms:<message id>`. Idempotent per key: a send the provider took is recorded in
`sms_sends` in a transaction of its own, right after the provider answers, so a re-run
(the worker crashed before marking the message done) finds it and does not send again.
Only a crash between the provider's answer and that commit can send twice, and the
provider receives the key (OutId / SessionContext) to tell the two apart in its receipts.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from formflow.db.models import Account, OutboxMessage, SmsSend
from formflow.integrations.sms import SmsFailed, mask
from formflow.integrations.sms.limits import over_limit
from formflow.integrations.sms.settings import provider_settings
from formflow.outbox import handler, side_transaction
from formflow.text.catalogue import _

log = logging.getLogger("formflow.sms")


def _record(session: Session, services: Any, row: SmsSend) -> None:
    """Commit the send at once (own transaction); in the worker's transaction if the database will not."""
    try:
        with side_transaction(services.sessions) as own:
            own.add(row)
    except OperationalError:  # e.g. SQLite busy under the worker's own write
        session.add(SmsSend(key=row.key, mobile_hash=row.mobile_hash, kind=row.kind, sender=row.sender,
                            provider_id=row.provider_id, at=row.at))


@handler("sms")
def deliver_sms(session: Session, message: OutboxMessage, services: Any) -> None:
    """Send the message once; raise (the worker retries with backoff) when it cannot be sent now."""
    if session.scalar(select(SmsSend.id).where(SmsSend.key == message.key)) is not None:
        return  # sent already by an earlier run
    payload = message.payload or {}
    account_id = payload.get("account_id")
    account = session.get(Account, account_id) if account_id is not None else None
    if account is None or not account.mobile_enc:
        log.info("SMS %s: the account has no mobile number; nothing to send", message.key)
        return
    mobile = services.keys.open(account.mobile_enc)
    mobile_hash = account.mobile_hash or services.keys.lookup(mobile)
    now = services.now()
    limit = over_limit(session, mobile_hash, provider_settings(services.settings).limits, now)
    if limit is not None:
        raise SmsFailed(_("%(mobile)s has had %(count)s SMS within %(seconds)s seconds; sent later",
                          mobile=mask(mobile), count=limit.count, seconds=limit.seconds), code="rate_limited")
    kind = payload.get("message_kind")
    provider_id = services.sms.send(mobile, str(payload.get("text") or ""), kind=kind,
                                    params=dict(payload.get("params") or {}), key=message.key)
    _record(session, services, SmsSend(key=message.key, mobile_hash=mobile_hash, kind=kind,
                                       sender=str(services.settings.sms_sender), provider_id=provider_id, at=now))
