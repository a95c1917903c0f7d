"""Failed sign-ins: throttled per account and per (account, address), never per address alone.

Counted in the database (not process memory), so the limits hold across several
gunicorn processes and nodes. Behind a reverse proxy every person shares the
proxy's address, so an address alone never blocks anyone; the address comes from
`X-Forwarded-For` only when FORMFLOW_TRUSTED_PROXIES says how many proxies to trust.

Known and unknown account names are treated alike: the same counts (keyed by the
name given), the same Argon2 work (a dummy check) and the same messages, so
neither the answer nor its timing tells whether an account exists.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.auth import seclog
from formflow.auth.passwords import verify_password
from formflow.db.models import Account, LoginFailure, as_utc, utcnow
from formflow.text.catalogue import _

log = logging.getLogger("formflow.auth")

#: failures of one account from one address within WINDOW that pause that address for the account
PAIR_LIMIT = 5
#: failures of one account from any address within WINDOW that lock it
ACCOUNT_LIMIT = 20
WINDOW = timedelta(minutes=15)


def _key(name: str) -> str:
    return name.strip().lower()[:100]


def _until(session: Session, key: str, address: str | None, limit: int, now: datetime) -> datetime | None:
    """When the count of failures (of `key`, from `address`) drops below `limit` again; None if it is below."""
    stmt = select(LoginFailure.at).where(LoginFailure.account_key == key, LoginFailure.at > now - WINDOW)
    if address is not None:
        stmt = stmt.where(LoginFailure.address == address[:64])
    times = list(session.scalars(stmt.order_by(LoginFailure.at.desc()).limit(limit)))
    if len(times) < limit:
        return None
    return (as_utc(times[-1]) or now) + WINDOW


def _locked(minutes: int) -> str:
    return _("This account is locked after repeated failed sign-ins; try again in %(minutes)s minutes",
             minutes=minutes)


def refusal_for(session: Session, key: str, address: str) -> str | None:
    """Why a sign-in attempt for the name `key` from `address` is refused before checking the secret."""
    now = utcnow()
    key = _key(key)
    untils = [u for u in (_until(session, key, address, PAIR_LIMIT, now),
                          _until(session, key, None, ACCOUNT_LIMIT, now)) if u is not None]
    if not untils:
        return None
    return _locked(int((max(untils) - now).total_seconds() // 60) + 1)


def record_failure(session: Session, account: Account | None, address: str, key: str) -> None:
    """Count a failure (and write it to the security log); the failure that reaches a limit is a lockout."""
    key = _key(key)
    session.add(LoginFailure(account_key=key, address=address[:64], at=utcnow()))
    session.flush()
    seclog.record(session, seclog.SIGN_IN_FAILED, actor=account, actor_name=key, address=address)
    if account is not None:
        account.failed_logins = (account.failed_logins or 0) + 1
    if refusal_for(session, key, address) is not None:
        seclog.record(session, seclog.LOCKOUT, actor=account, actor_name=key, address=address)
        log.warning("sign-ins for %r from %s paused after repeated failures", key[:40], address)
    log.info("failed sign-in for %r from %s", key[:40], address)


def record_success(session: Session, account: Account, address: str, how: str = "password") -> None:
    account.failed_logins = 0
    account.locked_until = None
    seclog.record(session, seclog.SIGN_IN, actor=account, address=address, detail=how)


def password_sign_in(session: Session, username: str, password: str, address: str
                     ) -> tuple[Account | None, str | None]:
    """The one password check of the web and the API: (account, None) on success, else (None, refusal).

    A refusal of None after a failure means wrong credentials (now counted);
    a refusal text means the name is paused (the same for known and unknown names).
    """
    refusal = refusal_for(session, username, address)
    if refusal is not None:
        seclog.record(session, seclog.SIGN_IN_FAILED, actor_name=_key(username), address=address, detail="paused")
        return None, refusal
    account = session.scalar(select(Account).where(Account.username == username))
    usable = account is not None and account.is_active
    if verify_password(account.password_hash if usable and account is not None else None, password) and usable:
        assert account is not None
        record_success(session, account, address)
        return account, None
    record_failure(session, account, address, username)
    return None, None
