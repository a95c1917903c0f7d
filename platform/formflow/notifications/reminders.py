"""A reviewer's queue in numbers: all of it, overdue, due today, due within the next working days.

The same reach and the same queue as the desk (`reviews.queue`): a count here is a row there.
The desk header shows `mine` and `overdue`; the daily digest all four.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from formflow.db.models import Account, Application
from formflow.reviews import queue as queue_mod

#: "Due soon": within this many working days after today.
SOON_WORKING_DAYS = 2


@dataclass(frozen=True)
class QueueCounts:
    mine: int = 0
    overdue: int = 0
    due_today: int = 0
    due_soon: int = 0

    @property
    def worth_telling(self) -> bool:
        return bool(self.overdue or self.due_today or self.due_soon)


def queue_counts(session: Session, account: Account | int, packset: Any, *, today: date | None = None,
                 calendar: Callable[[str], Any] | None = None) -> QueueCounts:
    """The account's queue counted (`today` and `calendar` only needed for the due-today and due-soon counts)."""
    reach = queue_mod.reach_of(session, account, packset)
    if not reach:
        return QueueCounts()
    base = queue_mod.queue_query(session, reach).with_only_columns(Application.id).subquery()
    counted = select(func.count()).select_from(Application).where(Application.id.in_(select(base.c.id)))
    mine = int(session.scalar(counted) or 0)
    overdue = int(session.scalar(counted.where(Application.overdue.is_(True))) or 0)
    if today is None or calendar is None:
        return QueueCounts(mine, overdue)
    not_late = Application.overdue.is_(False)
    due_today = int(session.scalar(counted.where(not_late, Application.deadline == today)) or 0)
    soon = [and_(Application.pack == pack, Application.deadline > today,
                 Application.deadline <= calendar(pack).add_days(today, SOON_WORKING_DAYS, "working"))
            for pack in sorted({r.pack for r in reach})]
    due_soon = int(session.scalar(counted.where(not_late, or_(false(), *soon))) or 0)
    return QueueCounts(mine, overdue, due_today, due_soon)
