"""What admins see of the outbox and may do to it: counts, failures, retry (the admin page and `formflow outbox`).

Never the payload: it may carry personal data (it is sealed at rest for that
reason); an admin sees the kind, the key's kind prefix, attempts, times and the
last error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from formflow.db.models import OutboxMessage, as_utc, utcnow
from formflow.outbox import DEAD, ENQUEUED, PENDING, STATUSES
from formflow.text.catalogue import _
from formflow.text.errors import Conflict, NotFound


@dataclass(frozen=True)
class KindCounts:
    kind: str
    counts: dict[str, int]  # status → count (every status present)
    due: int


@dataclass(frozen=True)
class Failure:
    id: int
    kind: str
    status: str
    attempts: int
    last_error: str
    created_at: datetime | None
    next_attempt: datetime | None  # None when dead
    application_id: int | None
    pack: str | None


def counts(session: Session, *, now: datetime | None = None) -> list[KindCounts]:
    """Messages per kind and status, and how many are due now."""
    moment = now or utcnow()
    table: dict[str, dict[str, int]] = {}
    for kind, status, n in session.execute(
            select(OutboxMessage.kind, OutboxMessage.status, func.count()).group_by(OutboxMessage.kind,
                                                                                    OutboxMessage.status)):
        table.setdefault(kind, dict.fromkeys(STATUSES, 0))[status] = int(n)
    due = dict(session.execute(
        select(OutboxMessage.kind, func.count()).where(
            OutboxMessage.status == PENDING, OutboxMessage.available_at <= moment,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= moment))
        .group_by(OutboxMessage.kind)).all())
    return [KindCounts(kind, table[kind], int(due.get(kind, 0))) for kind in sorted(table)]


def failures(session: Session, *, limit: int = 100) -> list[Failure]:
    """Dead messages, and pending ones that failed at least once; dead first, newest first."""
    rows = session.scalars(
        select(OutboxMessage)
        .where(or_(OutboxMessage.status == DEAD, (OutboxMessage.status == PENDING) & (OutboxMessage.attempts > 0)))
        .order_by((OutboxMessage.status == DEAD).desc(), OutboxMessage.id.desc()).limit(limit))
    return [Failure(id=m.id, kind=m.kind, status=m.status, attempts=m.attempts, last_error=m.last_error or "",
                    created_at=as_utc(m.created_at),
                    next_attempt=None if m.status == DEAD else as_utc(m.available_at),
                    application_id=m.application_id, pack=m.pack) for m in rows]


def retry(session: Session, message_id: int) -> OutboxMessage:
    """Make a dead (or failing) message due now with its attempts reset; in the caller's transaction."""
    message = session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None:
        raise NotFound(_("Outbox message %(id)s does not exist", id=message_id))
    if message.status != DEAD and not (message.status == PENDING and message.attempts > 0):
        raise Conflict(_("Outbox message %(id)s has not failed; there is nothing to retry", id=message_id))
    message.status, message.attempts, message.available_at = PENDING, 0, utcnow()
    message.claimed_by = message.claimed_until = None
    session.info[ENQUEUED] = True  # wake an embedded worker after commit
    return message
