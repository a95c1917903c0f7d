"""Failed sign-ins: lock an account after repeated failures, slow down an address.

Counted in the database (not process memory), so the limits hold across
several gunicorn processes and nodes.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from formflow.auth.passwords import verify_password
from formflow.db.models import Account, LoginFailure, as_utc, utcnow
from formflow.text.catalogue import _

log = logging.getLogger("formflow.auth")

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)


def refusal_for(session: Session, account: Account | None, address: str) -> str | None:
    """Why a sign-in attempt must be refused before checking the secret, or None."""
    now = utcnow()
    if account is not None and (as_utc(account.locked_until) or now) > now:
        minutes = int(((as_utc(account.locked_until) or now) - now).total_seconds() // 60) + 1
        return _("This account is locked after repeated failed sign-ins; try again in %(minutes)s minutes",
                 minutes=minutes)
    recent = session.scalar(
        select(func.count()).select_from(LoginFailure)
        .where(LoginFailure.address == address, LoginFailure.at > now - WINDOW)
    )  # fmt: skip
    if recent is not None and recent >= ADDRESS_LIMIT:
        return _("Too many failed sign-ins; please try again later")
    return None


def record_failure(session: Session, account: Account | None, address: str, key: str) -> None:
    """Count a failure; the fifth in a row locks the account for 15 minutes."""
    session.add(LoginFailure(account_key=key[:100], address=address[:64], at=utcnow()))
    if account is not None:
        account.failed_logins = (account.failed_logins or 0) + 1
        if account.failed_logins >= ACCOUNT_LIMIT:
            account.locked_until = utcnow() + LOCK_FOR
            account.failed_logins = 0
            log.warning("account %s locked for %s after %d failed sign-ins from %s",
                        account.id, LOCK_FOR, ACCOUNT_LIMIT, address)
    log.info("failed sign-in for %r from %s", key[:40], address)


def record_success(account: Account) -> None:
    account.failed_logins = 0
    account.locked_until = None


def password_sign_in(session: Session, username: str, password: str, address: str) -> tuple[Account | None, str | None]:
    """The one password check of the web and the API: (account, None) on success, else (None, refusal).

    A refusal of None after a failure means wrong credentials (now counted);
    a refusal text means the account is locked or the address throttled.
    """
    account = session.scalar(select(Account).where(Account.username == username))
    refusal = refusal_for(session, account, address)
    if refusal is None and account is not None and account.is_active and verify_password(
        account.password_hash, password
    ):
        record_success(account)
        return account, None
    if refusal is None:
        record_failure(session, account, address, username)
    return None, refusal
