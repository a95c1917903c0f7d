"""Messages written in the flush of the change they tell of (a `before_flush` listener).

New `Event` rows (workflow actions, submit, corrections, timers) and `HouseholdEvent` rows
(waiting list, lottery, subsidy) are matched against the pack's message kinds; each match
adds a `Message` for the applicant in the same flush. A kind sent by SMS also gets an `sms`
outbox message, enqueued once the message has its id (`after_flush_postexec`, still inside
the same transaction: the commit flushes it). A rolled-back change leaves neither.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from formflow.db.models import Account, Application, Correction, Event, Household, HouseholdEvent, Message, utcnow
from formflow.documents.context import message_context
from formflow.notifications import registry
from formflow.notifications.kinds import FLAT_VARIABLES, MessageKind, render
from formflow.outbox import enqueue
from formflow.text import formatting
from formflow.workflow.moves import AWAITING_CITIZEN

SMS_KIND = "sms"
_PENDING_SMS = "formflow.notifications.sms"
_listening: dict[str, bool] = {}


def listen() -> None:
    """Attach the listeners to every session (once per process)."""
    if _listening:
        return
    sa_event.listen(Session, "before_flush", _before_flush)
    sa_event.listen(Session, "after_flush_postexec", _after_flush)
    sa_event.listen(Session, "after_soft_rollback", _forget)
    _listening["on"] = True


def _forget(session: Session, _previous: Any) -> None:
    """A rolled-back flush leaves no SMS waiting for a message that is gone."""
    session.info.pop(_PENDING_SMS, None)


def portal_link(app_id: int | None) -> str | None:
    return f"/portal/applications/{app_id}" if app_id else None


def mask_name(name: str | None) -> str:
    from formflow.allocation.register import mask_name as mask

    return mask(name or "")


@dataclass
class Letter:
    """What one message says and to whom, before it is written."""

    account_id: int
    kind: MessageKind
    pack: str
    application_id: int | None
    values: dict[str, Any]
    key: str
    #: the key was just made with a new random token: no message can have it yet (nothing to look up)
    fresh: bool = False


def write(session: Session, letter: Letter) -> Message:
    """Add the message (and its SMS, if the kind says so) to the session; the same key twice is one."""
    values = {"link": portal_link(letter.application_id), **letter.values}
    flat = {k: v for k, v in values.items() if k in FLAT_VARIABLES}
    return add(session, account_id=letter.account_id, kind=letter.kind.id, pack=letter.pack,
               application_id=letter.application_id, title=render(letter.kind.title, values),
               body=render(letter.kind.body, values), link=portal_link(letter.application_id), key=letter.key,
               sms=letter.kind.sms, params=_plain(flat), fresh=letter.fresh)


def add(session: Session, *, account_id: int, kind: str, pack: str | None, application_id: int | None, title: str,
        body: str, link: str | None, key: str, sms: bool, params: dict[str, str] | None = None,
        fresh: bool = False) -> Message:
    """One message with its words already made; an `sms` outbox message follows once it has its id.

    `fresh`: the key holds a token made just now, so the database is not asked for it."""
    found = None
    if not fresh:
        with session.no_autoflush:
            found = session.scalars(_BY_KEY, {"key": key}).first()
    if found is None:
        found = next((m for m in session.new if isinstance(m, Message) and m.key == key), None)
    if found is not None:
        return found
    msg = Message(account_id=account_id, application_id=application_id, pack=pack, kind=kind,
                  content={"title": title, "body": body}, link=link, key=key, created_at=utcnow())
    session.add(msg)
    if sms:
        session.info.setdefault(_PENDING_SMS, []).append((msg, {"params": params or {}, "text": body}))
    return msg


_BY_KEY = select(Message).where(Message.key == bindparam("key"))


def _plain(values: dict[str, Any]) -> dict[str, str]:
    return {k: "" if v is None else str(v) for k, v in values.items()}


def application_values(session: Session, app: Application, stage: str | None,
                       deadline: date | None = None, pending_events: Sequence[Any] = (),
                       context: bool = True) -> dict[str, Any]:
    """The template variables of a message about `app` (names masked): the flat ones (name, matter, stage,
    deadline, number: also the SMS parameters) over the documented template context (`documents.context`),
    built by the same function as every notice's. `stage` prints as its title, `deadline` as 2026-03-02.
    `context` False: the flat ones only (the templates to fill need no more: `MessageKind.needs_context`)."""
    applicant = session.get(Account, app.applicant_id)
    due = deadline if deadline is not None else app.deadline
    full = _context(session, app, stage, due, pending_events) if context else {}
    return {
        **full,
        "name": mask_name(applicant.display_name if applicant else ""),
        "matter": registry.matter_title(app.pack, app.matter),
        "stage": full.get("stage") or stage_title(session, app, stage),
        "deadline": formatting.day(due),
        "number": app.number or "",
    }


def _context(session: Session, app: Application, stage: str | None, due: date | None,
             pending_events: Sequence[Any]) -> dict[str, Any]:
    try:
        return message_context(session, app, stage=stage, deadline=due, pending_events=pending_events)
    except Exception:  # noqa: BLE001 - the context must never stop the change the message tells of
        return {}


def stage_title(session: Session, app: Application, stage: str | None) -> str:
    if not stage:
        return ""
    try:
        from formflow.workflow.moves import workflow_of

        spec = workflow_of(session, app)
    except Exception:  # noqa: BLE001 — an unpinned or broken workflow must not stop the change itself
        return stage
    found = spec.stages.get(stage)
    return str(found.title) if found is not None else stage


def correction_deadline(app: Application, requested_on: date, calendar: Any) -> date | None:
    """The day a correction is due, by the matter's `correction_deadline` (None without one)."""
    config = registry.messages_of(app.pack, app.matter)
    if config is None or config.correction_deadline is None:
        return None
    days, unit = config.correction_deadline
    return calendar.add_days(requested_on, days, unit)


# --------------------------------------------------------------------------- listeners


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if not registry.installed():
        return
    new = list(session.new)
    for obj in new:
        if isinstance(obj, Event):
            _on_event(session, obj)
        elif isinstance(obj, HouseholdEvent):
            _on_household_event(session, obj)


def _after_flush(session: Session, _context: Any) -> None:
    pending = session.info.pop(_PENDING_SMS, None)
    if not pending:
        return
    with session.no_autoflush:
        for msg, extra in pending:
            if msg.id is None:
                continue
            enqueue(session, SMS_KIND,
                    {"account_id": msg.account_id, "message_kind": msg.kind, **extra},
                    key=f"sms:{msg.id}", application_id=msg.application_id, pack=msg.pack)


def _on_event(session: Session, ev: Event) -> None:
    if ev.application_id is None:
        return
    with session.no_autoflush:
        app = session.get(Application, ev.application_id)
        if app is None:
            return
        config = registry.messages_of(app.pack, app.matter)
        if config is None:
            return
        matched = [k for k in config.kinds if k.when.matches_event(ev.action, ev.from_stage, ev.to_stage)]
        if not matched:
            return
        deadline = _correction_due(session, app) if app.awaiting == AWAITING_CITIZEN else None
        values = application_values(session, app, ev.to_stage or app.stage, deadline, pending_events=[ev],
                                    context=any(kind.needs_context for kind in matched))
        token = uuid.uuid4().hex
        for kind in matched:
            write(session, Letter(app.applicant_id, kind, app.pack, app.id, values, key=f"event:{token}:{kind.id}",
                                  fresh=True))


def _correction_due(session: Session, app: Application) -> date | None:
    """The deadline of the correction the application now waits on (by the matter's correction_deadline)."""
    requested = max((c.requested_on for c in session.new if isinstance(c, Correction)
                     and c.application_id == app.id), default=None)
    if requested is None:
        requested = session.scalar(select(Correction.requested_on).where(
            Correction.application_id == app.id, Correction.answered_on.is_(None))
            .order_by(Correction.id.desc()).limit(1))
    if requested is None:
        return None
    return correction_deadline(app, requested, registry.calendar(app.pack))


def _on_household_event(session: Session, ev: HouseholdEvent) -> None:
    with session.no_autoflush:
        household = session.get(Household, ev.household_id)
        if household is None:
            return
        config = registry.messages_of(household.pack, household.matter)
        if config is None:
            return
        matched = [k for k in config.kinds if k.when.matches_household(ev.action, ev.to_status)]
        if not matched:
            return
        app = session.get(Application, household.application_id)
        full = any(kind.needs_context for kind in matched)
        values = application_values(session, app, app.stage, context=full) if app is not None else {}
        token = uuid.uuid4().hex
        for kind in matched:
            write(session, Letter(household.applicant_id, kind, household.pack, household.application_id, values,
                                  key=f"household:{token}:{kind.id}", fresh=True))
