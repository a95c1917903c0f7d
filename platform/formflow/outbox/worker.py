"""The outbox worker: claim due messages in batches, deliver each in its own transaction.

A batch is claimed by ONE statement that stamps the due messages with this
batch's token and a lease (`claimed_by`, `claimed_until`); on PostgreSQL the
rows are picked `FOR UPDATE SKIP LOCKED`, so workers on any number of nodes
never claim the same row, and SQLite serialises the statement itself. Each
message is then delivered in a transaction of its own that first re-takes it
(`UPDATE … WHERE claimed_by = token AND status = 'pending'`, which also locks
it): a message a slower worker lost to another (its lease ran out) is skipped,
never delivered twice in effect. The handler's work and "done" commit together.

A handler that raises: the transaction rolls back, `attempts` + 1, the message
waits `backoff` (exponential, capped) with its `last_error`; after
`max_attempts` it is `dead` (shown on the admin page, `formflow outbox retry`).
A worker killed mid-batch (SIGKILL, `SystemExit` from a handler) leaves its
claims behind: they are due again when the lease ends.

Handlers must not put personal data in their exception messages: `last_error`
is shown to admins.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from formflow.db.models import OutboxMessage, utcnow
from formflow.outbox import DEAD, DONE, PENDING, handler_for
from formflow.text.catalogue import _

#: Modules whose import registers handlers (a worker process imports them before its first batch).
HANDLER_MODULES: tuple[str, ...] = (
    "formflow.documents.notices", "formflow.integrations.sms.outbox", "formflow.webhooks",
)

DELIVERED, RETRY, BURIED, LOST = "delivered", "retry", "dead", "lost"
ERROR_LIMIT = 2000


@dataclass(frozen=True)
class Options:
    """How a worker claims and retries (from settings: `Options.from_settings`)."""

    batch: int = 20
    lease_seconds: float = 300.0
    max_attempts: int = 8
    backoff_seconds: float = 2.0
    backoff_cap_seconds: float = 3600.0

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> Options:
        values = {"batch": settings.worker_batch, "lease_seconds": settings.worker_lease_seconds,
                  "max_attempts": settings.outbox_max_attempts}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass
class BatchReport:
    """What one batch did."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0

    def add(self, outcome: str) -> None:
        if outcome == DELIVERED:
            self.delivered += 1
        elif outcome == RETRY:
            self.retried += 1
        elif outcome == BURIED:
            self.dead += 1
        else:
            self.lost += 1


class NoHandler(RuntimeError):
    """A message of a kind no handler is registered for (retried: a newer worker may know it)."""


def load_handlers() -> None:
    for name in HANDLER_MODULES:
        importlib.import_module(name)


def backoff(attempts: int, options: Options) -> timedelta:
    """The wait after the `attempts`-th failure: base × 2^(attempts−1), capped."""
    seconds = options.backoff_seconds * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, options.backoff_cap_seconds))


def _due(now: datetime) -> Any:
    return and_(OutboxMessage.status == PENDING, OutboxMessage.available_at <= now,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now))


def claim(sessions: sessionmaker[Session], options: Options, *, now: datetime, token: str) -> list[int]:
    """Stamp up to `options.batch` due messages with `token` and a lease; their ids, oldest first."""
    with sessions() as session, session.begin():
        pick = (select(OutboxMessage.id).where(_due(now))
                .order_by(OutboxMessage.available_at, OutboxMessage.id).limit(options.batch))
        if session.get_bind().dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        stamp = (update(OutboxMessage).where(OutboxMessage.id.in_(pick.scalar_subquery()))
                 .values(claimed_by=token, claimed_until=now + timedelta(seconds=options.lease_seconds))
                 .returning(OutboxMessage.id))
        ids = list(session.execute(stamp, execution_options={"synchronize_session": False}).scalars())
    return sorted(ids)


def _retake(session: Session, message_id: int, token: str, until: datetime) -> bool:
    took = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == token, OutboxMessage.status == PENDING)
        .values(claimed_until=until), execution_options={"synchronize_session": False})
    return bool(getattr(took, "rowcount", 0))


def deliver(sessions: sessionmaker[Session], services: Any, message_id: int, token: str, options: Options, *,
            now: datetime) -> str:
    """Run one claimed message's handler and mark it done, in one transaction; the outcome."""
    try:
        with sessions() as session, session.begin():
            if not _retake(session, message_id, token, now + timedelta(seconds=options.lease_seconds)):
                return LOST
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            fn = handler_for(message.kind)
            if fn is None:
                raise NoHandler(_("No handler is registered for messages of kind %(kind)s", kind=message.kind))
            fn(session, message, services)
            message.status, message.done_at, message.last_error = DONE, utcnow(), None
            message.claimed_by = message.claimed_until = None
        return DELIVERED
    except Exception as exc:  # noqa: BLE001 - any failure of a handler is retried, then buried
        return _failed(sessions, message_id, token, exc, options, now=now)


def _failed(sessions: sessionmaker[Session], message_id: int, token: str, exc: Exception, options: Options, *,
            now: datetime) -> str:
    error = f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT]
    with sessions() as session, session.begin():
        message = session.get(OutboxMessage, message_id)
        if message is None or message.claimed_by != token or message.status != PENDING:
            return LOST
        message.attempts += 1
        message.last_error = error
        message.claimed_by = message.claimed_until = None
        if message.attempts >= options.max_attempts:
            message.status = DEAD
            return BURIED
        message.available_at = now + backoff(message.attempts, options)
        return RETRY


def run_batch(sessions: sessionmaker[Session], services: Any, options: Options | None = None, *,
              now: Callable[[], datetime] | None = None) -> BatchReport:
    """Claim one batch and deliver it; the report (claimed 0: nothing was due)."""
    options = options or Options()
    clock = now or utcnow
    token = uuid.uuid4().hex
    report = BatchReport()
    ids = claim(sessions, options, now=clock(), token=token)
    report.claimed = len(ids)
    for message_id in ids:
        report.add(deliver(sessions, services, message_id, token, options, now=clock()))
    return report


def batches(sessions: sessionmaker[Session], services: Any, options: Options | None = None, *,
            now: Callable[[], datetime] | None = None, limit: int | None = None) -> Iterator[BatchReport]:
    """Batches until nothing is due (or `limit` batches): each report as it finishes."""
    count = 0
    while limit is None or count < limit:
        report = run_batch(sessions, services, options, now=now)
        if not report.claimed:
            return
        count += 1
        yield report


def backlog(session: Session, *, now: datetime | None = None) -> int:
    """How many messages are due now."""
    return int(session.scalar(select(func.count()).select_from(OutboxMessage).where(_due(now or utcnow()))) or 0)
