"""The security log: who signed in, out or failed, tokens, lockouts, roles, passwords, exports.

Append-only (the database refuses UPDATE and DELETE, migration 0014). A line is
written in the transaction of what it records (a sign-in and its line commit
together); a failure is written and committed before the refusal is answered.
Read only by the auditor role (`formflow.usecases.audit`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from formflow.db.models import Account, SecurityEvent, utcnow

SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"
LOGOUT = "logout"
LOCKOUT = "lockout"
SESSION_ENDED = "session_ended"
TOKEN_ISSUE = "token_issue"
TOKEN_REFRESH = "token_refresh"
TOKEN_REVOKE = "token_revoke"
ROLE_GRANT = "role_grant"
ROLE_REVOKE = "role_revoke"
PASSWORD_CHANGE = "password_change"
PASSWORD_CHECK_FAILED = "password_check_failed"
SMS_CODE_SENT = "sms_code_sent"
EXPORT = "export"

KINDS = (SIGN_IN, SIGN_IN_FAILED, LOGOUT, LOCKOUT, SESSION_ENDED, TOKEN_ISSUE, TOKEN_REFRESH, TOKEN_REVOKE,
         ROLE_GRANT, ROLE_REVOKE, PASSWORD_CHANGE, PASSWORD_CHECK_FAILED, SMS_CODE_SENT, EXPORT)


def record(session: Session, kind: str, *, actor: Account | None = None, actor_name: str = "",
           address: str = "", subject: str = "", detail: str = "") -> SecurityEvent:
    """Append one line (in the caller's transaction)."""
    row = SecurityEvent(kind=kind[:32], actor_id=actor.id if actor is not None else None,
                        actor=(actor.username if actor is not None and not actor_name else actor_name)[:100],
                        address=(address or "")[:64], subject=(subject or "")[:100], detail=(detail or "")[:500],
                        at=utcnow())
    session.add(row)
    session.flush()
    return row


def count_since(session: Session, kind: str, since: datetime, *, subject: str | None = None,
                address: str | None = None) -> int:
    """How many lines of `kind` since `since` (for one subject and/or one address)."""
    stmt = select(func.count()).select_from(SecurityEvent).where(SecurityEvent.kind == kind,
                                                                 SecurityEvent.at > since)
    if subject is not None:
        stmt = stmt.where(SecurityEvent.subject == subject)
    if address is not None:
        stmt = stmt.where(SecurityEvent.address == address)
    return int(session.scalar(stmt) or 0)


def recent(session: Session, *, kind: str | None = None, days: int = 30, limit: int = 500) -> list[SecurityEvent]:
    """The latest lines first (of one kind, within `days`)."""
    stmt = select(SecurityEvent).where(SecurityEvent.at > utcnow() - timedelta(days=days))
    if kind:
        stmt = stmt.where(SecurityEvent.kind == kind)
    return list(session.scalars(stmt.order_by(SecurityEvent.id.desc()).limit(limit)))
