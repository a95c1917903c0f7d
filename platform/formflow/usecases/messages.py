"""My messages: one account's messages, unread first; mark one or all read. Portal and API call these.

A person sees only their own messages: another's id is simply not found (404 on every channel).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from formflow.db.models import Account, Message, as_utc, utcnow
from formflow.text.catalogue import _
from formflow.text.errors import Refusal

PAGE_LIMIT = 100


class MessageNotFound(Refusal):
    code = "message_not_found"
    status = 404

    def __init__(self, message_id: int) -> None:
        super().__init__(_("This message does not exist"), message_id=message_id)


@dataclass(frozen=True)
class MessageView:
    id: int
    kind: str
    title: str
    body: str
    link: str | None
    application_id: int | None
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


@dataclass(frozen=True)
class Inbox:
    items: list[MessageView]
    unread: int
    total: int


def _view(row: Message) -> MessageView:
    content = row.content or {}
    return MessageView(row.id, row.kind, str(content.get("title", "")), str(content.get("body", "")), row.link,
                       row.application_id, as_utc(row.created_at), as_utc(row.read_at))


def unread_count(db: Session, account: Account | int) -> int:
    account_id = account if isinstance(account, int) else account.id
    return int(db.scalar(select(func.count(Message.id)).where(
        Message.account_id == account_id, Message.read_at.is_(None))) or 0)


def inbox(_services: Any, db: Session, account: Account, *, limit: int = PAGE_LIMIT) -> Inbox:
    """The account's messages: unread first, newest first within each."""
    rows = db.scalars(select(Message).where(Message.account_id == account.id)
                      .order_by(Message.read_at.is_not(None), Message.id.desc()).limit(limit))
    total = int(db.scalar(select(func.count(Message.id)).where(Message.account_id == account.id)) or 0)
    return Inbox([_view(r) for r in rows], unread_count(db, account), total)


def mark_read(services: Any, db: Session, account: Account, message_id: int) -> MessageView:
    """Mark one of the account's messages read (again: no change); another's: `MessageNotFound`."""
    row = db.get(Message, message_id)
    if row is None or row.account_id != account.id:
        raise MessageNotFound(message_id)
    if row.read_at is None:
        row.read_at = services.now() if services is not None else utcnow()
        db.flush()
    return _view(row)


def mark_all_read(services: Any, db: Session, account: Account) -> int:
    """Mark every unread message of the account read; how many were."""
    now = services.now() if services is not None else utcnow()
    result = db.execute(update(Message).where(Message.account_id == account.id, Message.read_at.is_(None))
                        .values(read_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


def desk_counts(services: Any, db: Session, account: Account) -> Any:
    """The reviewer's queue in numbers for the desk header (mine, overdue): `reminders.QueueCounts`."""
    from formflow.notifications.reminders import queue_counts

    return queue_counts(db, account, services.packs)
