"""What `formflow tick` adds once a day: correction deadline reminders and the reviewers' digest.

Both are idempotent through their keys — a reminder per (correction, kind), a digest per
(account, day) — so running tick twice a day, or on every node, tells each person once.
Each is written with its `sms` outbox message in one transaction per person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from formflow.db.models import Account, Application, Correction, Message, RoleAssignment
from formflow.notifications import registry
from formflow.notifications.reminders import SOON_WORKING_DAYS, queue_counts
from formflow.notifications.writer import Letter, add, application_values, correction_deadline, write
from formflow.text.catalogue import _

DIGEST = "digest"
DESK_LINK = "/desk/"


@dataclass
class DailyReport:
    reminders: list[int] = field(default_factory=list)
    digests: list[int] = field(default_factory=list)


def daily(sessions: sessionmaker[Session], packset: Any, *, today: date,
          calendar: Callable[[str], Any]) -> DailyReport:
    """Send today's correction reminders and reviewers' digests (install the packs' kinds first)."""
    registry.install(packset)
    report = DailyReport()
    report.reminders = correction_reminders(sessions, today=today, calendar=calendar)
    report.digests = digests(sessions, packset, today=today, calendar=calendar)
    return report


def correction_reminders(sessions: sessionmaker[Session], *, today: date,
                         calendar: Callable[[str], Any]) -> list[int]:
    """Remind each applicant whose open correction is due within a kind's `correction_due` working days."""
    sent: list[int] = []
    for config in registry.all_messages():
        reminders = [k for k in config.kinds if k.when.correction_due is not None]
        if not reminders or config.correction_deadline is None:
            continue
        with sessions() as db:
            rows = db.execute(select(Correction.id, Application.id).join(
                Application, Application.id == Correction.application_id).where(
                Application.pack == config.pack, Application.matter == config.matter,
                Application.status == "active", Correction.answered_on.is_(None))).all()
        for correction_id, app_id in rows:
            try:
                sent += _remind(sessions, correction_id, app_id, reminders, today=today, calendar=calendar)
            except IntegrityError:  # another node wrote the same reminder at the same moment
                continue
    return sent


def _remind(sessions: sessionmaker[Session], correction_id: int, app_id: int, reminders: list[Any], *,
            today: date, calendar: Callable[[str], Any]) -> list[int]:
    sent: list[int] = []
    with sessions.begin() as db:
        correction = db.get(Correction, correction_id)
        app = db.get(Application, app_id)
        if correction is None or app is None:
            return sent
        cal = calendar(app.pack)
        due = correction_deadline(app, correction.requested_on, cal)
        if due is None or due < today:
            return sent
        left = cal.working_days_between(today, due)
        for kind in reminders:
            if left > (kind.when.correction_due or 0):
                continue
            key = f"correction:{correction.id}:{kind.id}"
            if db.scalar(select(Message.id).where(Message.key == key)) is not None:
                continue
            values = application_values(db, app, correction.stage, due)
            msg = write(db, Letter(app.applicant_id, kind, app.pack, app.id, values, key=key))
            db.flush()
            sent.append(msg.id)
    return sent


def digests(sessions: sessionmaker[Session], packset: Any, *, today: date,
            calendar: Callable[[str], Any]) -> list[int]:
    """One digest per reviewer with something due today, due soon or overdue (in-app and by SMS)."""
    with sessions() as db:
        accounts = list(db.scalars(select(RoleAssignment.account_id).where(
            RoleAssignment.office_id.is_not(None)).distinct()))
    sent: list[int] = []
    for account_id in sorted(accounts):
        try:
            found = _digest(sessions, packset, account_id, today=today, calendar=calendar)
        except IntegrityError:  # another node wrote this digest at the same moment
            continue
        if found is not None:
            sent.append(found)
    return sent


def _digest(sessions: sessionmaker[Session], packset: Any, account_id: int, *, today: date,
            calendar: Callable[[str], Any]) -> int | None:
    key = f"digest:{account_id}:{today.isoformat()}"
    with sessions.begin() as db:
        account = db.get(Account, account_id)
        if account is None or not account.is_active:
            return None
        if db.scalar(select(Message.id).where(Message.key == key)) is not None:
            return None
        counts = queue_counts(db, account, packset, today=today, calendar=calendar)
        if not counts.worth_telling:
            return None
        title = _("Reviews due: %(today)s today, %(soon)s soon, %(late)s overdue", today=counts.due_today,
                  soon=counts.due_soon, late=counts.overdue)
        body = _("Your queue on %(day)s: %(today)s due today, %(soon)s due within %(days)s working days, "
                 "%(late)s overdue, %(all)s in all.", day=today.isoformat(), today=counts.due_today,
                 soon=counts.due_soon, days=SOON_WORKING_DAYS, late=counts.overdue, all=counts.mine)
        msg = add(db, account_id=account.id, kind=DIGEST, pack=None, application_id=None, title=title,
                  body=body, link=DESK_LINK, key=key, sms=True,
                  params={"today": str(counts.due_today), "soon": str(counts.due_soon),
                          "overdue": str(counts.overdue), "all": str(counts.mine)})
        db.flush()
        return msg.id


def from_settings(settings: Any, sessions: sessionmaker[Session], today: date) -> DailyReport:
    """`formflow tick`'s one call: load the packs of `settings`, then `daily` (the timers after it write their
    messages too, the kinds being installed)."""
    from formflow.calendars.overrides import calendars_with_overrides
    from formflow.packs import load_packs

    packset = load_packs(settings.config_root)
    return daily(sessions, packset, today=today, calendar=calendars_with_overrides(settings.config_root, sessions))
