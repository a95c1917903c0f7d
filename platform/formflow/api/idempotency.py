"""Idempotency keys: a retried request gets the first response, and changes nothing twice.

A client sends `Idempotency-Key: <1–200 visible characters>` on submit and on
actions. The key is stored per account with a hash of the request (method,
path, body) and the response, in the same transaction as the change itself:

- same key, same request → the stored response again (nothing is done);
- same key, different request → 422 `idempotency_mismatch`;
- a request that fails (4xx) rolls back with its key, so it may be retried.

Two copies arriving at once: the key row is inserted before the work, so the
second waits on the unique index (PostgreSQL) or the write lock (SQLite),
then finds the first's response.

The stored response holds what the answer held (full ID numbers, mobiles,
incomes): it is sealed like application data (`SealedJSON`) and kept only
`FORMFLOW_IDEMPOTENCY_HOURS` (24 by default). An expired key is as if never
used; `prune` (run by `formflow tick`) deletes expired rows.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from formflow.api.errors import ApiError
from formflow.db.models import ApiIdempotencyKey

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]
    replayed: bool


def key_from_request() -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    if not _KEY.match(raw):
        raise ApiError(400, "idempotency_key")
    return raw


def request_hash(body: Any) -> str:
    canonical = json.dumps(
        {"m": request.method, "p": request.path, "b": body}, sort_keys=True, ensure_ascii=False, default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


#: How long a stored response is replayed when the deployment does not say.
DEFAULT_LIFETIME = timedelta(hours=24)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _expired(row: ApiIdempotencyKey, now: datetime) -> bool:
    return row.expires_at is not None and _aware(row.expires_at) <= now


def _found(session: Session, account_id: int, key: str) -> ApiIdempotencyKey | None:
    return session.scalar(select(ApiIdempotencyKey).where(
        ApiIdempotencyKey.account_id == account_id, ApiIdempotencyKey.key == key))


def lifetime_of_app() -> timedelta:
    """FORMFLOW_IDEMPOTENCY_HOURS of the running app's settings (24 h by default)."""
    settings = current_app.extensions.get("formflow", {}).get("settings")
    hours = getattr(settings, "idempotency_hours", None)
    return timedelta(hours=hours) if hours else DEFAULT_LIFETIME


def prune(session: Session, now: datetime | None = None) -> int:
    """Delete the expired stored responses; how many went."""
    result = session.execute(delete(ApiIdempotencyKey).where(
        ApiIdempotencyKey.expires_at <= (now or datetime.now(UTC))))
    return int(getattr(result, "rowcount", 0) or 0)


def _replay(row: ApiIdempotencyKey, digest: str) -> Replay:
    if row.request_hash != digest:
        raise ApiError(422, "idempotency_mismatch")
    return Replay(row.status_code, dict(row.response or {}), True)


def run(sessions: sessionmaker[Session], account_id: int, key: str | None, body: Any,
        work: Callable[[Session], tuple[int, dict[str, Any]]], *, lifetime: timedelta | None = None,
        now: datetime | None = None) -> Replay:
    """Do `work` in one transaction (it returns status and JSON body), once per key while it lasts.

    Without a key the work simply runs. ApiError raised by `work` rolls back
    the transaction (the key is not kept).
    """
    if key is None:
        with sessions.begin() as db:
            status, payload = work(db)
        return Replay(status, payload, False)
    digest = request_hash(body)
    moment = now or datetime.now(UTC)
    expires = moment + (lifetime or lifetime_of_app())
    with sessions.begin() as db:
        row = _found(db, account_id, key)
        if row is not None and _expired(row, moment):
            db.delete(row)  # an expired key is as if never used
            row = None
        if row is not None:
            return _replay(row, digest)
    operation = f"{request.method} {request.path}"[:300]
    try:
        with sessions.begin() as db:
            row = ApiIdempotencyKey(account_id=account_id, key=key, operation=operation, request_hash=digest,
                                    status_code=0, response={}, created_at=moment, expires_at=expires)
            db.add(row)
            db.flush()
            status, payload = work(db)
            row.status_code = status
            row.response = payload
    except IntegrityError:
        with sessions() as db:
            row = _found(db, account_id, key)
            if row is None:
                raise
            return _replay(row, digest)
    return Replay(status, payload, False)
