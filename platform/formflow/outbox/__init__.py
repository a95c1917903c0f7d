"""The transactional outbox: what to do after a change commits, written in its transaction.

A state change that concerns someone calls `enqueue` in the same session as the
change: if the transaction rolls back, the message is gone with it; if it commits,
the message is there for `formflow worker` to deliver. Delivery is per kind
through `handler(kind)`; a handler must be idempotent per message (the worker may
run it again after a crash between delivering and marking it done), and it may use
the message's `key` as the idempotency key at the far end.

Why no job library: procrastinate runs on PostgreSQL only and huey keeps its queue
outside the application's transaction (Redis or its own SQLite file), so neither
gives "same transaction as the change" on both of our databases; a table and a
polling loop do, in a few lines (the worker is `formflow.outbox.worker`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session

from formflow.db.models import OutboxMessage, utcnow

PENDING, DONE, DEAD = "pending", "done", "dead"
STATUSES = (PENDING, DONE, DEAD)
#: `session.info` flag: this transaction enqueued something (the embedded worker is woken after its commit)
ENQUEUED = "formflow.outbox.enqueued"


class Handler(Protocol):
    def __call__(self, session: Session, message: OutboxMessage, services: Any) -> None: ...


_HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that delivers messages of `kind` (a decorator)."""

    def register(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        return fn

    return register


def handler_for(kind: str) -> Handler | None:
    return _HANDLERS.get(kind)


def kinds() -> list[str]:
    return sorted(_HANDLERS)


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    key: str,
    application_id: int | None = None,
    pack: str | None = None,
    available_at: datetime | None = None,
    fresh: bool = False,
) -> OutboxMessage:
    """Add a message to the caller's transaction; the same `key` twice is one message.

    `fresh`: the caller made the key new (it names a row just inserted, or a random delivery id), so no
    message can have it yet and it is not looked up."""
    if not fresh:
        existing = session.scalars(_BY_KEY, {"key": key}).first()
        if existing is not None:
            return existing
    row = OutboxMessage(
        kind=kind, key=key, payload=payload, status=PENDING, attempts=0,
        available_at=available_at or utcnow(), application_id=application_id, pack=pack,
    )
    session.add(row)
    session.info[ENQUEUED] = True
    return row


_BY_KEY = select(OutboxMessage).where(OutboxMessage.key == bindparam("key"))


# --------------------------------------------------------------------------- waking a worker after commit

_WAKERS: set[threading.Event] = set()


def wake_on_commit(flag: threading.Event) -> None:
    """Set `flag` after every commit (in this process) that enqueued a message."""
    _WAKERS.add(flag)


def stop_waking(flag: threading.Event) -> None:
    _WAKERS.discard(flag)


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop(ENQUEUED, False):
        for flag in tuple(_WAKERS):
            flag.set()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(ENQUEUED, None)


@contextmanager
def side_transaction(sessions: Any, wait_ms: int = 100) -> Iterator[Session]:
    """A transaction of its own beside a handler's (a delivery log that must outlive a retry).

    On SQLite only one connection writes at a time, and inside the worker the message's own
    transaction already holds the write lock: there the side transaction waits `wait_ms`, not
    the engine's busy timeout, before its `OperationalError` tells the caller to write with the
    worker's transaction instead.
    """
    with sessions() as own:
        conn = own.connection()
        sqlite = conn.dialect.name == "sqlite"
        before = conn.exec_driver_sql("PRAGMA busy_timeout").scalar() if sqlite else None
        if sqlite:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait_ms)}")
        try:
            yield own
            own.flush()  # the write that may find the lock taken, while the short wait is in force
        except BaseException:
            own.rollback()
            raise
        finally:
            if sqlite and not conn.closed:
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(before or 0)}")
        own.commit()
