"""Reading back what was written: messages of an account, SMS outbox rows."""

from __future__ import annotations

from sqlalchemy import select

from formflow.db.models import Account, Message, OutboxMessage


def messages(platform, username: str) -> list[Message]:
    with platform.sessions() as s:
        account_id = s.scalar(select(Account.id).where(Account.username == username))
        return list(s.scalars(select(Message).where(Message.account_id == account_id).order_by(Message.id)))


def kinds(platform, username: str) -> list[str]:
    return [m.kind for m in messages(platform, username)]


def sms(platform) -> list[OutboxMessage]:
    with platform.sessions() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "sms").order_by(OutboxMessage.id)))
