"""Households (one file per household): entering allocation, status changes with history, the waiting list.

`sync` is idempotent and safe to run on every node at once: `formflow
allocation sync` (cron), before a draw, a campaign or a roster (those POSTs),
and the housing staff's explicit "sync now" (a POST). A page that only shows
(any GET) never runs it: reading must not write. It files every application
closed with the configured entry result as a household, and applies every
closed follow-up application's outcome to its household. Each household change
is one transaction with its history event (`HouseholdEvent`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from formflow.allocation.config import (
    BENEFITING,
    CONTINUE,
    FLAT,
    HOUSED,
    OFFERED,
    RECOVER_FLAT,
    RECOVERED,
    REMOVED,
    STOP_SUBSIDY,
    STOPPED,
    SUBSIDISED,
    SUBSIDY,
    WAITING,
    Allocation,
    allocations,
)
from formflow.db.models import Account, Application, Event, Household, HouseholdCheck, HouseholdEvent, utcnow
from formflow.forms.formats import mask_id_number
from formflow.forms.rules import evaluate
from formflow.packs.versions import load_pinned
from formflow.reviews.stage_forms import stage_values
from formflow.text.catalogue import DEFAULT_LOCALE, _, in_locale
from formflow.text.errors import Refusal
from formflow.text.formatting import local
from formflow.workflow.spec import spec_for


class AllocationError(Refusal):
    """A refused allocation operation; `message` (from the catalogue) is shown to the user."""

    code = "allocation_refused"
    status = 409


def recorded(msgid: str, **params: Any) -> str:
    """Text stored in a household's history: the authority's language, whoever's request wrote it."""
    return in_locale(DEFAULT_LOCALE, msgid, **params)


def mask_name(name: str) -> str:
    """A full name → its first character and ** (the family name only)."""
    name = (name or "").strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def household_scope(h: Household, alloc: Allocation, today: date) -> dict[str, Any]:
    """Variables of an allocation expression over a household."""
    def iso(d: date | None) -> str | None:
        return d.isoformat() if d else None

    return {
        "household": {"code": h.code, "approved_on": iso(h.approved_on), "queued_on": iso(h.queued_on),
                      "since": iso(h.since), "declines": h.declines, "facts": dict(h.facts or {})},
        "params": alloc.params,
        "meta": {"today": today.isoformat()},
    }


def record(session: Session, h: Household, action: str, actor: Account | None, *, to: str | None = None,
           note: str | None = None, details: dict[str, Any] | None = None) -> HouseholdEvent:
    """Change the household's status (when `to` is given) and append its history event; flush once."""
    before = h.status
    if to is not None:
        h.status = to
    h.updated_at = utcnow()
    event = HouseholdEvent(household_id=h.id, actor_id=actor.id if actor else None, action=action,
                           from_status=before, to_status=h.status, note=note, details=details or {})
    session.add(event)
    session.flush()
    return event


def lock_household(session: Session, household_id: int, expected_version: int | None = None) -> Household:
    query = select(Household).where(Household.id == household_id).with_for_update()
    h = session.scalars(query.execution_options(populate_existing=True)).one_or_none()
    if h is None:
        raise AllocationError(_("The household archive does not exist"), code="household_not_found", status=404)
    if expected_version is not None and h.version != expected_version:
        raise AllocationError(_("This household archive was updated by someone else; please refresh and try again"),
                              code="household_stale")
    return h


# --------------------------------------------------------------------------- sync


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


def sync(sessions: sessionmaker[Session], packset: Any, *, today: date,
         only: Allocation | None = None, progress: Callable[[int, int], None] | None = None) -> SyncReport:
    """File newly approved households and apply closed follow-up outcomes (one transaction each).

    `only` limits the run to one matter's allocation (the staff's "sync now"); `progress(done, more)`,
    when given, hears how many applications are found and each one finished.
    """
    step = progress or (lambda done, more: None)
    report = SyncReport()
    for alloc in allocations(packset):
        if only is not None and (alloc.pack, alloc.matter) != (only.pack, only.matter):
            continue
        with sessions() as session:
            pending = list(session.scalars(
                select(Application.id)
                .outerjoin(Household, Household.application_id == Application.id)
                .where(Application.pack == alloc.pack, Application.matter == alloc.matter,
                       Application.status == "closed", Application.result == alloc.spec["entry"]["result"],
                       Household.id.is_(None))
                .order_by(Application.id)
            ))
        step(0, len(pending))
        for app_id in pending:
            _in_transaction(sessions, report, app_id, lambda s, a=app_id, c=alloc: _enter(s, c, a, today, report))
            step(1, 0)
        for matter in alloc.follow_up_matters():
            with sessions() as session:
                open_ids = list(session.scalars(
                    select(Application.id)
                    .outerjoin(HouseholdCheck, HouseholdCheck.application_id == Application.id)
                    .where(Application.pack == alloc.pack, Application.matter == matter,
                           Application.status != "draft",
                           (HouseholdCheck.id.is_(None)) | (and_(HouseholdCheck.applied_at.is_(None),
                                                                Application.status == "closed")))
                    .order_by(Application.id)
                ))
            step(0, len(open_ids))
            for app_id in open_ids:
                _in_transaction(sessions, report, app_id,
                                lambda s, a=app_id, c=alloc, m=matter: _follow_up(s, c, m, a, report))
                step(1, 0)
    return report


def _in_transaction(sessions: sessionmaker[Session], report: SyncReport, app_id: int, work) -> None:
    try:
        with sessions.begin() as session:
            work(session)
    except IntegrityError:
        pass  # another node filed it at the same time
    except AllocationError as exc:
        report.skipped[app_id] = exc.message


def _approved_on(session: Session, app: Application) -> date:
    at = session.scalar(select(Event.at).where(Event.application_id == app.id).order_by(Event.id.desc()).limit(1))
    return local(at or app.updated_at or utcnow()).date()  # the day in the deployment zone, not UTC's


def _enter(session: Session, alloc: Allocation, app_id: int, today: date, report: SyncReport) -> None:
    app = session.get(Application, app_id)
    if app is None or session.scalar(select(Household.id).where(Household.application_id == app_id)):
        return
    pinned = load_pinned(session, app.versions)
    scope = pinned.ruleset.variables(app.data or {}, today)
    workflow = spec_for(pinned.versions["workflow"], pinned.workflow)
    scope["stage"] = stage_values(session, app.id, workflow.stages.values())  # facts may name stage form values
    mode = evaluate(alloc.spec["entry"]["mode"], scope)
    if mode not in alloc.modes:
        raise AllocationError(_("The support mode %(mode)s of application %(number)s is not configured in "
                                       "the modes of allocation.yaml", mode=repr(mode), number=app.number or app.id))
    kind = alloc.modes[mode]["kind"]
    household = alloc.spec["household"]
    facts = {name: evaluate(spec.get("logic"), scope) for name, spec in alloc.facts.items()}
    approved = _approved_on(session, app)
    id_number = str(evaluate(household["id_number"], scope) or "")
    h = Household(
        code=f"H{app.number or app.id}", pack=app.pack, matter=app.matter, application_id=app.id,
        applicant_id=app.applicant_id, office_id=app.office_id, office_path=app.office_path, mode=mode,
        kind=kind, status=WAITING if kind == FLAT else SUBSIDISED,
        name=str(evaluate(household["name"], scope) or ""), id_masked=mask_id_number(id_number) if id_number else "",
        facts=facts, approved_on=approved, queued_on=approved if kind == FLAT else None,
        since=approved if kind == SUBSIDY else None, declines=0,
    )
    session.add(h)
    session.flush()
    record(session, h, "entered", None, note=recorded("Approved; entered %(mode)s", mode=alloc.mode_title(mode)),
           details={"application": app.id, "mode": mode})
    report.created.append(h.code)


def _household_for(session: Session, alloc: Allocation, mode: str, app: Application) -> Household | None:
    code = ((app.data or {}).get("household") or {}).get("archive_no")
    query = select(Household).where(Household.pack == alloc.pack, Household.matter == alloc.matter,
                                    Household.mode == mode)
    if code:
        found = session.scalar(query.where(Household.code == code, Household.applicant_id == app.applicant_id))
        if found is not None:
            return found
    return session.scalar(query.where(Household.applicant_id == app.applicant_id).order_by(Household.id.desc()))


def _follow_up(session: Session, alloc: Allocation, matter: str, app_id: int, report: SyncReport) -> None:
    app = session.get_one(Application, app_id)  # one of the ids just selected
    check = session.scalar(select(HouseholdCheck).where(HouseholdCheck.application_id == app_id))
    if check is None:
        h = _household_for(session, alloc, alloc.follow_up_matters()[matter], app)
        if h is None:
            raise AllocationError(_("No household archive found for the change report %(number)s",
                                           number=app.number or app.id))
        check = HouseholdCheck(household_id=h.id, application_id=app.id, trigger="report")
        session.add(check)
        session.flush()
        record(session, h, "report_filed", None,
               note=recorded("The household reported a change (%(number)s)", number=app.number or app.id),
               details={"application": app.id})
    if app.status != "closed" or check.applied_at is not None:
        return
    apply_outcome(session, alloc, check, app)
    report.applied.append(f"{app.number or app.id}:{app.result}")


def apply_outcome(session: Session, alloc: Allocation, check: HouseholdCheck, app: Application) -> None:
    """The household's status after its follow-up application closed with `app.result`."""
    h = lock_household(session, check.household_id)
    effect = alloc.outcomes.get(str(app.result))
    check.outcome = app.result
    check.applied_at = utcnow()
    details = {"application": app.id, "result": app.result, "effect": effect}
    number = app.number or app.id
    if effect == STOP_SUBSIDY and h.kind == SUBSIDY and h.status == SUBSIDISED:
        record(session, h, "subsidy_stopped", None, to=STOPPED,
               note=recorded("Check %(number)s: rental subsidy stopped", number=number),
               details=details)
    elif effect == RECOVER_FLAT and h.kind == FLAT and h.status in (HOUSED, OFFERED):
        record(session, h, "flat_recovered", None, to=RECOVERED,
               note=recorded("Check %(number)s: flat recovered", number=number),
               details=details)
    elif effect == CONTINUE:
        record(session, h, "check_continued", None, note=recorded("Check %(number)s: support continues", number=number),
               details=details)
    else:
        record(session, h, "check_closed", None, note=recorded("Check %(number)s closed (%(result)s)", number=number,
                                                       result=app.result), details=details)


# --------------------------------------------------------------------------- waiting list


def _compare(a: Any, b: Any) -> int:
    if a == b:
        return 0
    if a is None:
        return 1
    if b is None:
        return -1
    try:
        return -1 if a < b else 1
    except TypeError:
        return -1 if str(a) < str(b) else 1


def waiting_list(session: Session, alloc: Allocation, *, today: date,
                 paths: list[str] | None = None) -> list[Household]:
    """Waiting households of the lottery mode, in the order of the pack's priority rule."""
    mode = alloc.lottery_mode
    if mode is None:
        return []
    query = select(Household).where(Household.pack == alloc.pack, Household.matter == alloc.matter,
                                    Household.mode == mode, Household.status == WAITING)
    rows = list(session.scalars(query))
    if paths is not None:
        rows = [h for h in rows if any((h.office_path or "").startswith(p) for p in paths)]
    order = alloc.waiting_list.get("order") or []
    keys = {h.id: [evaluate(k.get("logic"), household_scope(h, alloc, today)) for k in order] for h in rows}

    def cmp(x: Household, y: Household) -> int:
        for i, spec in enumerate(order):
            a, b = keys[x.id][i], keys[y.id][i]
            c = _compare(a, b)
            if c and spec.get("direction") == "desc" and a is not None and b is not None:
                c = -c
            if c:
                return c
        return _compare(x.code, y.code)

    return sorted(rows, key=functools.cmp_to_key(cmp))


def accept_offer(session: Session, household_id: int, actor: Account, *, today: date,
                 expected_version: int | None = None) -> Household:
    h = lock_household(session, household_id, expected_version)
    if h.status != OFFERED:
        raise AllocationError(_("This household has no offered flat to confirm"), code="no_offer")
    h.since = today
    record(session, h, "offer_accepted", actor, to=HOUSED,
           note=recorded("Tenancy confirmed %(flat)s", flat=(h.flat or {}).get("code", "")),
           details={"flat": h.flat})
    return h


def decline_offer(session: Session, alloc: Allocation, household_id: int, actor: Account, *, today: date,
                  note: str | None = None, expected_version: int | None = None) -> Household:
    """The household declines its flat: back on the list by the pack's rule (or off it)."""
    h = lock_household(session, household_id, expected_version)
    if h.status != OFFERED:
        raise AllocationError(_("This household has no offered flat to confirm"), code="no_offer")
    rule = alloc.waiting_list.get("on_decline") or {"requeue": "end"}
    declined = h.flat
    h.flat = None
    h.declines = (h.declines or 0) + 1
    limit = rule.get("max_declines")
    if limit and h.declines >= int(limit):
        record(session, h, "offer_declined", actor, to=REMOVED,
               note=note or recorded("Declined %(limit)s offers; removed from the waiting list", limit=limit),
               details={"flat": declined, "declines": h.declines})
        return h
    if rule.get("requeue") == "end":
        h.queued_on = today
    record(session, h, "offer_declined", actor, to=WAITING, note=note or recorded("Declined the offer; waiting again"),
           details={"flat": declined, "declines": h.declines, "requeue": rule.get("requeue")})
    return h


__all__ = [
    "BENEFITING", "AllocationError", "SyncReport", "accept_offer", "apply_outcome", "decline_offer",
    "household_scope", "lock_household", "mask_name", "record", "sync", "waiting_list",
]
