"""Bearer tokens of the API: short-lived access tokens, revocable rotating refresh tokens.

Access token: signed (HMAC, the app's SECRET_KEY) and valid 15 minutes; it
carries the account id, the account's `session_epoch` at sign-in and the
refresh family. Every request checks the epoch and that the family is not
revoked, so a password or role change (the epoch bumps) and a logout end it
at once, like a web session.

Refresh token: random, stored only as its SHA-256, valid 14 days. Each use
marks it used and issues the next token of its family (rotation); a used
token presented again means a copy leaked: the whole family is revoked.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import CursorResult, Integer, String, bindparam, exists, select, update
from sqlalchemy.orm import Session, joinedload

from formflow.api.errors import ApiError
from formflow.auth import seclog
from formflow.db.models import Account, ApiRefreshToken, RoleAssignment, as_utc, utcnow
from formflow.text.catalogue import _

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=14)
REFRESH_PREFIX = "ffr_"
_SALT = "formflow-api-access-v1"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    token_type: str = "Bearer"


@dataclass(frozen=True)
class AccessClaims:
    account_id: int
    epoch: int
    family: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def issue(session: Session, secret: str, account: Account, *, family: str | None = None, address: str = ""
          ) -> TokenPair:
    """A new access token and a new refresh token (of `family`, or a new family: a sign-in); logged."""
    seclog.record(session, seclog.TOKEN_REFRESH if family else seclog.TOKEN_ISSUE, actor=account, address=address,
                  subject=(family or "")[:16])
    family = family or secrets.token_hex(16)
    refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiRefreshToken(
        account_id=account.id, token_hash=digest(refresh), family=family, epoch=account.session_epoch or 0,
        issued_at=utcnow(), expires_at=utcnow() + REFRESH_TTL,
    ))
    session.flush()
    access = _serializer(secret).dumps({"a": account.id, "e": account.session_epoch or 0, "f": family})
    return TokenPair(access, refresh, int(ACCESS_TTL.total_seconds()), int(REFRESH_TTL.total_seconds()))


def revoke_family(session: Session, family: str, *, address: str = "", why: str = "logout") -> None:
    """End every token of the sign-in `family` (written to the security log)."""
    seclog.record(session, seclog.TOKEN_REVOKE, address=address, subject=family[:16], detail=why)
    session.execute(
        update(ApiRefreshToken)
        .where(ApiRefreshToken.family == family, ApiRefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def _refresh_row(session: Session, token: str) -> ApiRefreshToken | None:
    if not isinstance(token, str) or not token.startswith(REFRESH_PREFIX) or len(token) > 200:
        return None
    stmt = select(ApiRefreshToken).where(ApiRefreshToken.token_hash == digest(token))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def rotate(session: Session, secret: str, token: str, *, address: str = "") -> TokenPair:
    """Exchange a refresh token for a new pair; the presented token is used up.

    Raises ApiError 401 for an unknown, expired, revoked or reused token, or
    one issued before the account's password or roles changed.
    """
    row = _refresh_row(session, token)
    refused = ApiError(401, "invalid_refresh_token")
    if row is None:
        raise refused
    now = utcnow()
    if row.revoked_at is not None:
        raise refused
    if row.used_at is not None:  # replay of a rotated token: assume it leaked
        revoke_family(session, row.family, address=address, why="reused")
        raise ApiError(401, "invalid_refresh_token",
                       _("The refresh token was used before; for safety this sign-in has ended, please sign in again"))
    if (as_utc(row.expires_at) or now) <= now:
        raise refused
    account = session.get(Account, row.account_id)
    if account is None or not account.is_active or (account.session_epoch or 0) != row.epoch:
        revoke_family(session, row.family, address=address, why="sign-in ended")
        raise refused
    claimed = cast(CursorResult[Any], session.execute(  # an UPDATE's result is a cursor result
        update(ApiRefreshToken)
        .where(ApiRefreshToken.id == row.id, ApiRefreshToken.used_at.is_(None))
        .values(used_at=now)
    )).rowcount
    if claimed != 1:  # a concurrent refresh with the same token won
        revoke_family(session, row.family, address=address, why="concurrent refresh")
        raise refused
    return issue(session, secret, account, family=row.family, address=address)


def revoke(session: Session, token: str, *, address: str = "") -> bool:
    """Logout: the refresh token's whole family ends (its access tokens with it)."""
    row = _refresh_row(session, token)
    if row is None:
        return False
    revoke_family(session, row.family, address=address)
    return True


def read_access(secret: str, token: str) -> AccessClaims:
    """The claims of a valid (signed, unexpired) access token; ApiError 401 otherwise."""
    if not token or len(token) > 1000:
        raise ApiError(401)
    try:
        data = _serializer(secret).loads(token, max_age=int(ACCESS_TTL.total_seconds()))
    except SignatureExpired:
        raise ApiError(401, "token_expired") from None
    except (BadSignature, ValueError, TypeError):
        raise ApiError(401) from None
    try:
        return AccessClaims(int(data["a"]), int(data["e"]), str(data["f"]))
    except (KeyError, TypeError, ValueError):
        raise ApiError(401) from None


def account_for(session: Session, claims: AccessClaims) -> Account:
    """The account an access token speaks for, if its sign-in still stands; its roles and their offices loaded.

    One statement: the account, its roles with their offices (joined) and whether the token's family
    still has an unrevoked refresh token.
    """
    rows = session.execute(_account_statement(), {"account_id": claims.account_id, "family": claims.family})
    found = rows.unique().first()
    if found is None:
        raise ApiError(401)
    account, alive = found
    if not account.is_active or (account.session_epoch or 0) != claims.epoch or not alive:
        raise ApiError(401)
    return account


@functools.cache
def _account_statement() -> Any:
    """`account_for`'s statement, built once (parameters `account_id` and `family`)."""
    alive = exists().where(ApiRefreshToken.family == bindparam("family", type_=String),
                           ApiRefreshToken.revoked_at.is_(None))
    return (select(Account, alive.label("alive")).where(Account.id == bindparam("account_id", type_=Integer))
            .options(joinedload(Account.roles).joinedload(RoleAssignment.office)))
