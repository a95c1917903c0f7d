"""Web sessions the server knows: a sign-in is a row; logout, a password change or 12 hours end it.

The cookie carries a random session id (only its SHA-256 is stored). Every request
checks that the row exists, belongs to the account, has not ended and is younger
than the absolute lifetime, so a copied cookie is useless after logout. The idle
limit (30 minutes) is the cookie's own signed timestamp (PERMANENT_SESSION_LIFETIME).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from formflow.db.models import Account, WebSession, as_utc, utcnow

IDLE_LIFETIME = timedelta(minutes=30)
ABSOLUTE_LIFETIME = timedelta(hours=12)
#: failed checks of the current password (the password page) that end the session
PASSWORD_FAILURES_END = 5


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8", "replace")).hexdigest()


def start(db: Session, account: Account, address: str) -> str:
    """A new session of `account`; returns the id the cookie carries."""
    sid = secrets.token_urlsafe(32)
    db.add(WebSession(sid_hash=_digest(sid), account_id=account.id, created_at=utcnow(), address=address[:64],
                      password_failures=0))
    db.flush()
    return sid


def find(db: Session, sid: str | None, account_id: int) -> WebSession | None:
    """The live session `sid` of the account, or None (unknown, ended, or older than 12 hours)."""
    if not sid or not isinstance(sid, str) or len(sid) > 100:
        return None
    row = db.scalar(select(WebSession).where(WebSession.sid_hash == _digest(sid)))
    if row is None or row.account_id != account_id or row.ended_at is not None:
        return None
    if (as_utc(row.created_at) or utcnow()) + ABSOLUTE_LIFETIME <= utcnow():
        return None
    return row


def end(db: Session, sid: str | None) -> bool:
    """End the session `sid` (logout); True when there was one to end."""
    if not sid or not isinstance(sid, str):
        return False
    result = db.execute(update(WebSession).where(WebSession.sid_hash == _digest(sid), WebSession.ended_at.is_(None))
                        .values(ended_at=utcnow()))
    return bool(getattr(result, "rowcount", 0))
