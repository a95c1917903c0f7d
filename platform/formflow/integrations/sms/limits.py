"""Per-number rate limits for sends (FORMFLOW_SMS_RATE_LIMITS), counted in `sms_sends`.

The count is by the number's keyed hash, so every process and node sees the same
sends; a send over a limit is put off (the outbox retries it with backoff).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from formflow.db.models import SmsSend
from formflow.integrations.sms.settings import RateLimit


def over_limit(session: Session, mobile_hash: str, limits: tuple[RateLimit, ...], now: datetime) -> RateLimit | None:
    """The first limit one more send to this number would break, or None."""
    for limit in limits:
        since = now - timedelta(seconds=limit.seconds)
        count = session.scalar(select(func.count(SmsSend.id)).where(
            SmsSend.mobile_hash == mobile_hash, SmsSend.at > since)) or 0
        if count >= limit.count:
            return limit
    return None
