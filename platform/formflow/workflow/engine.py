"""The workflow engine: what an account may do now, and doing it.

Every function runs in the caller's transaction and appends exactly one
history event. Actions on an existing application lock its row, check the
caller's `expected_version` (optimistic concurrency, `StaleApplication`),
check that the stage is current and that the actor holds the owner role at
the owning office (`ActionNotAvailable`), evaluate the guard
(`GuardNotMet`), then move, start and stop clocks, issue notices, and bump
the version once. The workflow is read only through the application's
pinned versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.calendars.workdays import WorkCalendar
from formflow.calendars.workdays import today as local_today
from formflow.db.models import (
    Account,
    Application,
    Correction,
    Event,
    Objection,
    ReviewMarking,
    StageClock,
    utcnow,
)
from formflow.documents.notices import issue_notice, missing_items
from formflow.files.storage import LocalStorage
from formflow.forms.rules import evaluate
from formflow.packs.versions import load_pinned
from formflow.reviews.stage_forms import stage_values
from formflow.reviews.tables import latest_marking
from formflow.text.catalogue import DEFAULT_LOCALE, _, in_locale, lazy
from formflow.webhooks.listener import none_active
from formflow.workflow import clocks
from formflow.workflow.access import Authority, Held, assignments, authority, office_name, role_names
from formflow.workflow.diagram import LEVEL_TITLES
from formflow.workflow.errors import (
    ActionNotAvailable,
    GuardNotMet,
    ObjectionError,
    ReasonRequired,
    WorkflowError,
    roles_text,
)
from formflow.workflow.moves import (
    ACTIVE,
    AWAITING_CITIZEN,
    CLOSED,
    Move,
    check_version,
    default_calendar,
    lock_live,
    lock_or_fail,
    workflow_of,
)
from formflow.workflow.process import UNIT_TITLES
from formflow.workflow.spec import CITIZEN_ROLE, Action, Stage, WorkflowSpec

SUBMIT = "submit"
ANSWER_CORRECTION = "answer_correction"
RECORD_OBJECTION = "record_objection"
DISMISS_OBJECTION = "dismiss_objection"

#: `_guard_reason`'s marking at the stage when the caller has not read it.
UNREAD = object()
#: A marked table's outcome, as a refusal names it.
OUTCOME_TITLES = {"pass": lazy("Pass"), "fail": lazy("Fail")}


@dataclass(frozen=True)
class IssuedNotice:
    id: int
    kind: str
    title: str
    number: str
    sha256: str | None  # None until the outbox rendered it (after commit)


@dataclass(frozen=True)
class Transition:
    """The application after an engine call, and what the call recorded."""

    application_id: int
    version: int
    status: str
    stages: tuple[str, ...]
    result: str | None
    event_id: int
    awaiting: str | None = None
    deadline: date | None = None
    notices: tuple[IssuedNotice, ...] = ()
    objection_id: int | None = None


@dataclass(frozen=True)
class AvailableAction:
    """One action an account may see at a current stage; `why_not` when it cannot act now."""

    stage: str
    stage_title: str
    action: str
    title: str
    allowed: bool
    why_not: str | None
    reason_required: bool
    correction: bool
    targets: tuple[str, ...]


def _transition(app: Application, event: Event, notices: Sequence[IssuedNotice] = (),
                objection_id: int | None = None) -> Transition:
    return Transition(
        application_id=app.id,
        version=app.version,
        status=app.status,
        stages=tuple(app.stages or ()),
        result=app.result,
        event_id=event.id,
        awaiting=app.awaiting,
        deadline=app.deadline,
        notices=tuple(notices),
        objection_id=objection_id,
    )


def _closed_or_draft(app: Application) -> str:
    """Why an application that is not active cannot be acted on."""
    return _("The application is closed.") if app.status == CLOSED else _("The application has not been submitted yet.")


def _actor_role(session: Session, app: Application, actor: Account) -> str | None:
    roles = role_names(session, actor, app)
    return roles[0] if roles else None


# --------------------------------------------------------------------------- submit


def enter_workflow(
    session: Session, app: Application, actor: Account, *, calendar: WorkCalendar | None, today: date,
    note: str | None = None, details: dict[str, Any] | None = None, fresh: bool = False,
) -> Transition:
    """Start a validated application at the workflow's `start` stage (event `submit`).

    `fresh`: the caller holds the row locked and knows it never entered the
    workflow (a draft): no clocks or stage rows are read back, and the
    applicant acts as the citizen without a look-up of their roles.

    The application is a draft, or already marked active by the submit service
    but not yet at any stage. `calendar` None: the national calendar of the
    configuration root. `note` and `details` (e.g. the submit token and channel)
    go into the one `submit` event.
    """
    entered = app.status == ACTIVE and bool(app.stages)
    if app.status not in ("draft", ACTIVE) or entered:
        raise WorkflowError(_("This application has already been submitted."), application_id=app.id,
                            application_status=app.status, stages=list(app.stages or []))
    if app.id is None:
        session.flush()
    with session.no_autoflush:
        move = Move.of(session, app, today, calendar or default_calendar(), fresh=fresh)
        app.status = ACTIVE
        app.stages = []
        app.result = None
        app.awaiting = None
        app.arrived = {}
        if app.submitted_at is None:
            app.submitted_at = utcnow()
        move.enter(move.spec.start)
        move.start_commitment(None)
        event = move.finish(Event(
            actor_id=actor.id,
            actor_role=CITIZEN_ROLE if fresh and actor.id == app.applicant_id else _actor_role(session, app, actor),
            action=SUBMIT,
            from_stage=None,
            to_stage=move.spec.start,
            note=note,
            details={**(details or {}), "stages": list(app.stages)},
        ))
    return _transition(app, event)


# --------------------------------------------------------------------------- checks


def _authorize(
    session: Session, app: Application, spec: WorkflowSpec, stage_id: str, action_id: str,
    actor: Account, held: Held | None = None,
) -> tuple[Stage, Action, Authority]:
    """The stage, action and the actor's authority, or `ActionNotAvailable` saying why not.

    `held`: the actor's role assignments when the caller has read them (`access.assignments`)."""
    if held is None:
        held = assignments(session, actor.id)

    def refuse(why: str) -> ActionNotAvailable:
        return ActionNotAvailable(action_id, stage_id, roles_text(role_names(session, actor, app, held)), why)

    if app.status != ACTIVE:
        raise refuse(_closed_or_draft(app))
    stage = spec.stages.get(stage_id)
    if stage is None or stage_id not in (app.stages or []):
        current = _(", ").join(spec.stages[s].title for s in app.stages or [] if s in spec.stages)
        raise refuse(_("The application is not at this stage (it is now at: %(stages)s).",
                       stages=current or _("none")))
    action = stage.actions.get(action_id)
    if action is None:
        raise refuse(_("Stage “%(stage)s” has no such action.", stage=stage.title))
    owner = stage.owner
    found = authority(session, app, actor, owner.role, owner.level, held) if owner else None
    if found is None or owner is None:
        level = str(LEVEL_TITLES.get(owner.level, owner.level)) if owner else ""
        who = spec.role_title(owner.role) if owner else ""
        raise refuse(_("Only the %(role)s of a %(level)s office of the application's area may handle this stage.",
                       role=who, level=level))
    return stage, action, found


def open_objections(session: Session, app_id: int, stage: str) -> list[Objection]:
    return list(session.scalars(
        select(Objection)
        .where(Objection.application_id == app_id, Objection.stage == stage,
               Objection.resolved_on.is_(None))
        .order_by(Objection.id)
    ))


def _guard_reason(
    session: Session, app: Application, spec: WorkflowSpec, stage: Stage, action: Action,
    actor: Account, today: date, held: Held | None = None,
    at_stage: ReviewMarking | None | object = UNREAD,
) -> str | None:
    """Why the action's guard does not hold now (in the person's language), or None when it does.

    `held`: the actor's role assignments when the caller has read them (`access.assignments`);
    `at_stage`: the latest marking at the stage when the caller has read it: of any table (`lock_live`)
    or of the stage's table (`latest_marking`)."""
    if app.awaiting == AWAITING_CITIZEN:
        return _("Waiting for the applicant to correct the materials.")
    if stage.is_timer and stage.objections and not open_objections(session, app.id, stage.id):
        return _("There is no objection to handle; the stage moves on by itself when its period ends.")
    guard = action.guard
    if guard.outcome is not None:
        if stage.table is None:
            return _("This stage has no review table, so there is no review outcome to go by.")
        marking = _latest_marking(session, app, stage, at_stage)
        table = load_pinned(session, app.versions).table(stage.table) or {}
        if marking is None:
            return _("The review table of this stage, “%(table)s”, has not been filled in yet.",
                     table=table.get("title", stage.table))
        if marking.outcome != guard.outcome:
            have = OUTCOME_TITLES.get(marking.outcome, marking.outcome)
            need = OUTCOME_TITLES.get(guard.outcome, guard.outcome)
            return _("The review table's outcome is “%(have)s”; this action needs “%(need)s”.",
                     have=str(have), need=str(need))
    if guard.rule is not None:
        scope = load_pinned(session, app.versions).ruleset.variables(app.data or {}, today)
        scope["stage"] = stage_values(session, app.id, spec.stages.values())  # `stage.<stage-id>.<field>`
        if not evaluate(guard.rule, scope):
            return _("The conditions of this action are not met.")
    if guard.role is not None and stage.owner is not None:
        if authority(session, app, actor, guard.role, stage.owner.level, held) is None:
            return _("Only the %(role)s may take this action.", role=spec.role_title(guard.role))
    return None


def _latest_marking(session: Session, app: Application, stage: Stage, at_stage: object) -> ReviewMarking | None:
    """The latest marking of the stage's table: `at_stage` when it is of that table or there is none, else read."""
    if at_stage is None or (isinstance(at_stage, ReviewMarking) and at_stage.table_id == stage.table):
        return at_stage
    assert stage.table is not None
    return latest_marking(session, app.id, stage.id, stage.table)


def available_actions(
    session: Session, app: Application, account: Account, *, today: date | None = None
) -> list[AvailableAction]:
    """Actions of every current stage the account owns, with whether the guard allows them now."""
    if app.status != ACTIVE:
        return []
    when = today or local_today()
    spec = workflow_of(session, app)
    out: list[AvailableAction] = []
    with session.no_autoflush:
        held = assignments(session, account.id)
        for stage_id in app.stages or []:
            stage = spec.stages.get(stage_id)
            if stage is None or stage.owner is None:
                continue
            if authority(session, app, account, stage.owner.role, stage.owner.level, held) is None:
                continue
            marking: object = UNREAD  # the stage table's latest marking, read once for all its actions
            for action in stage.actions.values():
                if marking is UNREAD and action.guard.outcome is not None and stage.table is not None:
                    marking = latest_marking(session, app.id, stage.id, stage.table)
                why = _guard_reason(session, app, spec, stage, action, account, when, held, marking)
                out.append(AvailableAction(
                    stage=stage.id, stage_title=stage.title, action=action.id, title=action.title,
                    allowed=why is None, why_not=why, reason_required=action.reason_required,
                    correction=action.correction, targets=action.targets,
                ))
    return out


# --------------------------------------------------------------------------- perform


def perform(
    session: Session,
    app_id: int,
    *,
    stage: str,
    action: str,
    actor: Account,
    note: str | None = None,
    expected_version: int,
    calendar: WorkCalendar,
    today: date,
    storage: LocalStorage,
    renderers: Path,
    materials: Sequence[str] = (),
    keys: Any = None,
) -> Transition:
    """Take `action` at `stage` of an application as `actor`.

    `note` is the reason (required when the action says so); `materials` names
    the material kinds a correction request asks for. `renderers` is the
    renderers/ folder of the configuration root.
    """
    with session.no_autoflush:
        locked = lock_live(session, app_id, stage, actor.id)
        app = locked.app
        if not locked.hooked:  # the lock read that the pack has no webhook subscription: its event needs no look-up
            none_active(session, app.pack)
        spec = workflow_of(session, app)
        check_version(app, expected_version, spec)
        held = locked.held  # the actor's assignments, read by the lock
        st, act, auth = _authorize(session, app, spec, stage, action, actor, held)
        why = _guard_reason(session, app, spec, st, act, actor, today, held, locked.marking)
        if why is not None:
            raise GuardNotMet(action, stage, auth.role, why)
        if act.reason_required and not (note or "").strip():
            raise ReasonRequired(action, stage)
        if act.correction:  # a correction request names what to correct, before any notice is numbered
            from formflow.usecases.corrections import check_correction_request

            check_correction_request(load_pinned(session, app.versions).materials, materials, note)
        return _apply(session, app, st, act, auth, actor, note=note, materials=materials, calendar=calendar,
                      today=today, storage=storage, renderers=renderers, keys=keys, live=locked.clocks, spec=spec)


def _apply(
    session: Session, app: Application, stage: Stage, action: Action, auth: Authority,
    actor: Account, *, note: str | None, materials: Sequence[str], calendar: WorkCalendar,
    today: date, storage: LocalStorage, renderers: Path, keys: Any, live: list[StageClock] | None = None,
    spec: WorkflowSpec | None = None,
) -> Transition:
    move = Move.of(session, app, today, calendar, live=live, spec=spec)
    details: dict[str, Any] = {"office": auth.office_id, "to": list(action.targets)}
    if stage.is_timer and stage.objections:
        upheld = open_objections(session, app.id, stage.id)
        for objection in upheld:
            objection.upheld = True
            objection.resolved_by = actor.id
            objection.resolved_on = today
            objection.resolution = note
        details["objections"] = [o.id for o in upheld]
        clocks.stop(move.clocks, today, [clocks.objection_clock(o.id) for o in upheld])
    if action.correction:
        details["paused"] = clocks.pause(move.clocks, today)
        details["materials"] = list(materials)
        app.awaiting = AWAITING_CITIZEN
        session.add(Correction(application_id=app.id, stage=stage.id, note=note,
                               missing=list(materials), requested_by=actor.id, requested_on=today))
        to_stage = stage.id
    else:
        move.go(stage.id, action.targets)
        to_stage = action.targets[0] if action.targets else stage.id
    move.start_commitment(action.id)
    details["stages"] = list(app.stages or [])
    if app.status == CLOSED:
        details["result"] = app.result
    if action.notice:
        details["notices"] = [action.notice]
    event = move.finish(Event(
        actor_id=actor.id, actor_role=auth.role, action=action.id, from_stage=stage.id,
        to_stage=to_stage, note=note, details=details,
    ))
    issued: list[IssuedNotice] = []
    if action.notice:
        pinned = load_pinned(session, app.versions)
        context = {
            "office_name": auth.office_name,
            "reason": note or "",
            "deadline": None if action.correction else app.deadline,
            "missing": missing_items(pinned.materials, materials, note) if action.correction else [],
            "time_limit": _commitment_text(move.spec),
            "stage_values": stage_values(session, app.id, move.spec.stages.values()),
        }
        issued.append(_issue(session, app, action.notice, context, storage, renderers, today,
                             event, keys))
    return _transition(app, event, issued)


def _commitment_text(spec: WorkflowSpec) -> str | None:
    c = spec.commitment
    if c is None:
        return None
    unit = UNIT_TITLES.get(c.unit) or in_locale(DEFAULT_LOCALE, " days (after a number)")
    return f"{c.days}{unit}"


def _issue(session: Session, app: Application, notice_id: str, context: dict[str, Any],
           storage: LocalStorage, renderers: Path, today: date, event: Event, keys: Any) -> IssuedNotice:
    row = issue_notice(session, app, notice_id, context=context, storage=storage,
                       renderers=renderers, today=today, event_id=event.id, keys=keys)
    return IssuedNotice(row.id, row.kind, row.title, row.number, row.sha256)


# --------------------------------------------------------------------------- citizen


def _citizen_check(session: Session, app: Application, actor: Account, action: str) -> str:
    roles = roles_text(role_names(session, actor, app))
    if actor.id != app.applicant_id:
        raise ActionNotAvailable(action, app.stage, roles, _("Only the applicant may take this action."))
    if app.status != ACTIVE:
        raise ActionNotAvailable(action, app.stage, roles, _closed_or_draft(app))
    return roles


def answer_correction(
    session: Session,
    app_id: int,
    actor: Account,
    *,
    expected_version: int,
    note: str | None = None,
    calendar: WorkCalendar,
    today: date,
) -> Transition:
    """The applicant has corrected the materials: clocks resume, due dates move by the pause."""
    with session.no_autoflush:
        app = lock_or_fail(session, app_id)
        spec = workflow_of(session, app)
        check_version(app, expected_version, spec)
        roles = _citizen_check(session, app, actor, ANSWER_CORRECTION)
        if app.awaiting != AWAITING_CITIZEN:
            raise ActionNotAvailable(ANSWER_CORRECTION, app.stage, roles,
                                     _("No materials are waiting to be corrected."))
        pending = list(session.scalars(
            select(Correction)
            .where(Correction.application_id == app.id, Correction.answered_on.is_(None))
            .order_by(Correction.id)
        ))
        for correction in pending:
            correction.answered_by = actor.id
            correction.answered_on = today
            correction.answer = note
        move = Move.of(session, app, today, calendar)
        shifts = clocks.resume(move.clocks, today, calendar)
        app.awaiting = None
        stage = pending[-1].stage if pending else app.stage
        event = move.finish(Event(
            actor_id=actor.id, actor_role=CITIZEN_ROLE, action=ANSWER_CORRECTION, from_stage=stage,
            to_stage=stage, note=note,
            details={"corrections": [c.id for c in pending], "shifted_days": shifts},
        ))
    return _transition(app, event)


def withdraw(
    session: Session,
    app_id: int,
    actor: Account,
    *,
    expected_version: int | None,
    reason: str | None = None,
    action: str = "withdraw",
    today: date | None = None,
    calendar: WorkCalendar | None = None,
    storage: LocalStorage | None = None,
    renderers: Path | None = None,
    keys: Any = None,
) -> Transition:
    """The applicant gives up: per the workflow's `citizen` action, from any allowed stage.

    `expected_version` None skips the version check (the applicant's decision
    stands whatever a reviewer did meanwhile, unless the application closed).
    """
    when = today or local_today()
    cal = calendar or default_calendar()
    with session.no_autoflush:
        app = lock_or_fail(session, app_id)
        spec = workflow_of(session, app)
        if expected_version is not None:
            check_version(app, expected_version, spec)
        roles = _citizen_check(session, app, actor, action)
        cit = spec.citizen.get(action)
        if cit is None:
            raise ActionNotAvailable(action, app.stage, roles, _("The workflow offers the applicant no such action."))
        if not any(cit.allowed_from(s) for s in app.stages or []):
            raise ActionNotAvailable(action, app.stage, roles, _("This action cannot be taken at the current stage."))
        if cit.reason_required and not (reason or "").strip():
            raise ReasonRequired(action, app.stage)
        move = Move.of(session, app, when, cal)
        left = list(app.stages or [])
        for stage_id in left:
            move.leave(stage_id)
        app.awaiting = None
        for target in cit.targets:
            if app.status != CLOSED:
                move.enter(target)
        event = move.finish(Event(
            actor_id=actor.id, actor_role=CITIZEN_ROLE, action=action,
            from_stage=left[0] if left else None,
            to_stage=cit.targets[0] if cit.targets else None, note=reason,
            details={"from_stages": left, "stages": list(app.stages), "result": app.result},
        ))
        issued = []
        if cit.notice:
            if storage is None or renderers is None:
                raise WorkflowError(_("This action issues a document, but no file storage is configured."),
                                    action=action, notice=cit.notice)
            context = {"office_name": office_name(session, app), "reason": reason or ""}
            issued.append(_issue(session, app, cit.notice, context, storage, renderers, when,
                                 event, keys))
    return _transition(app, event, issued)


# --------------------------------------------------------------------------- objections


def record_objection(
    session: Session,
    app_id: int,
    actor: Account,
    *,
    stage: str,
    note: str,
    expected_version: int,
    today: date,
    calendar: WorkCalendar | None = None,
) -> Transition:
    """The stage owner records an objection raised during a timer stage; it blocks expiry.

    When the stage's `objections` give a `time_limit`, a clock for reviewing this objection starts now
    (`clocks.objection_clock`); it stops when the objection is resolved and, past due, makes the
    application overdue like a stage's time limit. `calendar` None: the national calendar.
    """
    with session.no_autoflush:
        app = lock_or_fail(session, app_id)
        spec = workflow_of(session, app)
        check_version(app, expected_version, spec)
        st = _objection_stage(session, app, spec, stage, actor, RECORD_OBJECTION)
        auth = _owner(session, app, spec, st, actor, RECORD_OBJECTION)
        if not (note or "").strip():
            raise ReasonRequired(RECORD_OBJECTION, stage)
        objection = Objection(application_id=app.id, stage=stage, note=note, raised_by=actor.id,
                              raised_on=today)
        session.add(objection)
        move = Move.of(session, app, today, calendar or default_calendar())
        details: dict[str, Any] = {"office": auth.office_id}
        if st.objection_limit is not None:  # the owner has this long to review it
            session.flush()
            clock = move.start_clock(clocks.objection_clock(objection.id), st.objection_limit)
            details["objection"] = objection.id
            details["review_due_on"] = clock.due_on.isoformat() if clock.due_on else None
        event = move.finish(Event(
            actor_id=actor.id, actor_role=auth.role, action=RECORD_OBJECTION, from_stage=stage,
            to_stage=stage, note=note, details=details,
        ))
    return _transition(app, event, objection_id=objection.id)


def resolve_objection(
    session: Session,
    app_id: int,
    actor: Account,
    *,
    objection_id: int,
    upheld: bool,
    note: str | None = None,
    expected_version: int,
    calendar: WorkCalendar,
    today: date,
    storage: LocalStorage,
    renderers: Path,
    action: str | None = None,
    keys: Any = None,
) -> Transition:
    """Resolve an open objection.

    Not upheld: the objection closes and the timer runs on (it expires on the
    next tick once due). Upheld: the reviewer performs the stage's configured
    action (`action`, or the stage's only action), e.g. `uphold_objection`.
    """
    with session.no_autoflush:
        app = lock_or_fail(session, app_id)
        spec = workflow_of(session, app)
        check_version(app, expected_version, spec)
        objection = session.get(Objection, objection_id)
        if objection is None or objection.application_id != app.id or objection.resolved_on:
            raise ObjectionError(_("The objection does not exist or has already been handled."),
                                 objection=objection_id)
        st = _objection_stage(session, app, spec, objection.stage, actor, DISMISS_OBJECTION)
        if upheld:
            action_id = action or _only_action(st)
            st, act, auth = _authorize(session, app, spec, st.id, action_id, actor)
            if act.reason_required and not (note or "").strip():
                raise ReasonRequired(action_id, st.id)
            return _apply(session, app, st, act, auth, actor, note=note, materials=(),
                          calendar=calendar, today=today, storage=storage, renderers=renderers,
                          keys=keys)
        auth = _owner(session, app, spec, st, actor, DISMISS_OBJECTION)
        objection.upheld = False
        objection.resolved_by = actor.id
        objection.resolved_on = today
        objection.resolution = note
        move = Move.of(session, app, today, calendar)
        clocks.stop(move.clocks, today, [clocks.objection_clock(objection.id)])
        event = move.finish(Event(
            actor_id=actor.id, actor_role=auth.role, action=DISMISS_OBJECTION, from_stage=st.id,
            to_stage=st.id, note=note, details={"objection": objection.id, "office": auth.office_id},
        ))
    return _transition(app, event, objection_id=objection_id)


def _objection_stage(session: Session, app: Application, spec: WorkflowSpec, stage_id: str,
                     actor: Account, action: str) -> Stage:
    roles = roles_text(role_names(session, actor, app))
    st = spec.stages.get(stage_id)
    if app.status != ACTIVE or st is None or stage_id not in (app.stages or []):
        raise ActionNotAvailable(action, stage_id, roles, _("The application is not at this stage."))
    if not (st.is_timer and st.objections):
        raise ActionNotAvailable(action, stage_id, roles, _("This stage takes no objections."))
    return st


def _owner(session: Session, app: Application, spec: WorkflowSpec, stage: Stage, actor: Account,
           action: str) -> Authority:
    owner = stage.owner
    found = authority(session, app, actor, owner.role, owner.level) if owner else None
    if found is None:
        roles = roles_text(role_names(session, actor, app))
        who = spec.role_title(owner.role) if owner else ""
        raise ActionNotAvailable(action, stage.id, roles, _("Only the %(role)s may handle this stage.", role=who))
    return found


def _only_action(stage: Stage) -> str:
    if len(stage.actions) != 1:
        listed = ", ".join(stage.actions) or "none"
        raise ObjectionError(_("Please name the action to take when the objection is upheld."),
                             stage=stage.id, actions=listed)
    return next(iter(stage.actions))
