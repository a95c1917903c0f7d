"""Submit a draft: lock, then read, then validate, then enter the workflow — once, whoever asks how often.

The row is locked before anything of it is read (`SELECT … FOR UPDATE` on PostgreSQL, the write
lock on SQLite), so of several simultaneous submits of one draft the first enters the workflow and
the others, once they get the row, see it submitted: the same token gets the same application back
(a double click, a retry after a lost response), another token a clear `AlreadySubmitted` (409).

Validation is the pinned form, the material checklist, every file reference (this application's own
uploads only) and drawn signature, and the duplicate-household check: a member of the household may
not be in another application of the matter that is in progress, approved, or whose household is on
the waiting list, housed or receiving a subsidy.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from formflow.allocation.config import HOUSED, OFFERED, SUBSIDISED, WAITING
from formflow.applications import drafts
from formflow.applications.errors import AlreadySubmitted, DuplicateHousehold, Incomplete, StaleDraft
from formflow.db.models import Account, Application, Event, Household, HouseholdMember
from formflow.forms.errors import FieldError
from formflow.forms.formats import mask_id_number
from formflow.text.catalogue import DEFAULT_LOCALE, _, in_locale
from formflow.usecases.files import locked_application, materials_problems
from formflow.workflow.moves import current_state, workflow_of

SUBMIT_EVENT = "submit"
#: The workflow result of an approved application (its household may then be housed or subsidised).
APPROVED = "approved"
#: Household statuses that still count as "this household is provided for".
LIVE_HOUSEHOLD = (WAITING, OFFERED, HOUSED, SUBSIDISED)


def submitted_with(db: Session, app_id: int, token: str) -> bool:
    """Was this application submitted with this token (the one `submit` event says so)?"""
    done = db.scalar(select(Event).where(Event.application_id == app_id, Event.action == SUBMIT_EVENT))
    return done is not None and (done.details or {}).get("token") == token


def household_clash(db: Session, app: Application, hashes: list[str]) -> str | None:
    """The first member hash already in another application of the matter that counts, or None.

    Counted: applications in progress; approved applications, unless their household has since
    left allocation (removed from the waiting list, flat recovered, subsidy stopped).
    """
    if not hashes:
        return None
    live = or_(
        Application.status == "active",
        and_(Application.status == "closed", Application.result == APPROVED,
             or_(Household.id.is_(None), Household.status.in_(LIVE_HOUSEHOLD))),
    )
    return db.execute(
        select(HouseholdMember.id_hash)
        .join(Application, Application.id == HouseholdMember.application_id)
        .outerjoin(Household, Household.application_id == Application.id)
        .where(HouseholdMember.matter == app.matter, HouseholdMember.id_hash.in_(hashes),
               HouseholdMember.active.is_(True), Application.id != app.id, live)
        .order_by(HouseholdMember.id)
        .limit(1)
    ).scalar()


def _warnings(pinned: Any, data: dict[str, Any], today: Any) -> list[str]:
    """Eligibility conditions of the pre-check that do not hold (shown to the citizen before submitting)."""
    check = drafts.precheck(pinned, data, today)
    if check.eligibility is None:
        return []
    return [str(c.id) for c in check.eligibility.conditions if c.holds is not True]


@dataclass
class BeforeSubmit:
    """What the citizen sees before submitting: every problem (as submit would refuse it), the pre-check."""

    app: Application
    errors: list[Any]  # FieldError: pointer, message, path
    precheck: Any  # usecases.viewing.PrecheckView: every value formatted as a person reads it (or None)
    checklist: list[Any]  # ChecklistItem
    provided: dict[str, bool]  # item field -> provided
    steps: list[Any]
    matter_title: str


def before_submit(services: Any, db: Session, actor: Account, app_id: int) -> BeforeSubmit:
    """The confirmation page's content: the same checks `submit` makes, without changing anything."""
    app = db.get(Application, app_id)
    if app is None or actor is None or actor.id not in (app.applicant_id, app.assisted_by_id):
        from formflow.usecases.files import ApplicationNotFound

        raise ApplicationNotFound(app_id)
    today = services.today()
    pinned = drafts.pinned_of(db, app)
    form = drafts.form_of(pinned)
    data = app.data or {}
    errors = drafts.all_errors(pinned, data, today)
    seen = {(e.pointer, e.message) for e in errors}
    pruned = form.prune_hidden(dict(data))
    errors += [FieldError(p.pointer, p.message) for p in materials_problems(db, app, pruned)
               if (p.pointer, p.message) not in seen]
    items = drafts.checklist(pinned, data, today)
    from formflow.applications.materials import provided
    from formflow.usecases.viewing import precheck_view

    return BeforeSubmit(app=app, errors=errors, precheck=precheck_view(pinned, data, today), checklist=items,
                        provided={i.field: provided(i, pruned) for i in items}, steps=form.steps(),
                        matter_title=str((pinned.manifest.get("matter") or {}).get("title", app.matter)))


def submit(
    services: Any,
    db: Session,
    actor: Account,
    app_id: int,
    *,
    token: str,
    channel: str,
    confirm_warnings: bool = False,
    expected_version: int | None = None,
) -> Application:
    """Submit the draft `app_id` as `actor` (its applicant or assisting clerk) through `channel`.

    `token` makes it idempotent. `confirm_warnings`: the person saw the pre-check's unmet conditions
    and submits anyway (the pre-check only advises; it is recorded in the submit event).
    """
    app = locked_application(db, actor, app_id)
    if app.status != "draft":
        if token and submitted_with(db, app.id, token):
            return app
        raise AlreadySubmitted(_("This application has already been submitted; there is no need to submit it "
                                 "again."), current=current_state(app, workflow_of(db, app)))
    if expected_version is not None and app.version != int(expected_version):
        raise StaleDraft(app.version)
    today = services.today()
    pinned = drafts.pinned_of(db, app)
    form = drafts.form_of(pinned)
    data = drafts.apply_computed(pinned, form.prune_hidden(copy.deepcopy(app.data or {})), today)
    errors = drafts.all_errors(pinned, data, today)
    seen = {(e.pointer, e.message) for e in errors}
    errors += [FieldError(p.pointer, p.message) for p in materials_problems(db, app, data)
               if (p.pointer, p.message) not in seen]
    if errors:
        raise Incomplete(errors)
    # one household, one application of the matter — for applications; a person may file many complaints
    checks_household = (pinned.manifest.get("matter") or {}).get("kind", "application") == "application"
    members = drafts.household(pinned, data) if checks_household else []
    hashes = [services.keys.lookup(number) for _name, number in members]
    if db.get_bind().dialect.name == "postgresql":
        for digest in sorted(set(hashes)):
            db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"household:{app.matter}:{digest}"})
    clash = household_clash(db, app, hashes)
    if clash is not None:
        name, number = members[hashes.index(clash)]
        raise DuplicateHousehold(name or _("(name not given)"), mask_id_number(number))
    warnings = _warnings(pinned, data, today)
    app.data = data
    app.status = "active"
    app.category = drafts.category_of(pinned, data)
    app.submitted_at = services.now()
    app.household_hashes = hashes
    for digest in dict.fromkeys(hashes):
        db.add(HouseholdMember(application_id=app.id, matter=app.matter, id_hash=digest, active=True))
    try:
        db.flush()
    except StaleDataError:
        raise StaleDraft(int(db.scalar(select(Application.version).where(Application.id == app.id)) or 0)) from None
    from formflow.workflow.engine import enter_workflow

    enter_workflow(db, app, actor, calendar=services.calendar(app.pack), today=today,
                   note=in_locale(DEFAULT_LOCALE, "Submitted online" if app.assisted_by_id is None
                                  else "Submitted at the service-hall window"),
                   details={"token": token, "channel": app.channel, "via": channel, "warnings": warnings,
                            "warnings_confirmed": bool(confirm_warnings)})
    if not app.number:
        app.number = f"{app.submitted_at:%Y%m%d}{app.id:06d}"
    db.flush()
    return app


__all__ = ["APPROVED", "LIVE_HOUSEHOLD", "SUBMIT_EVENT", "BeforeSubmit", "before_submit", "household_clash", "submit",
           "submitted_with"]
