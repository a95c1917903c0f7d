"""One timeline of an application, as the citizen or as staff read it, and the process with its progress.

Every channel (portal, desk, both API views) reads the history through
`timeline`, so they show the same titles and the same local times:

- an action's title is the title of that action AT THE STAGE IT WAS TAKEN
  (the event's `from_stage`): the same action id means different things at
  different stages ("first review passed" at the street, "re-review passed" at the district);
- the citizen variant leaves out reviewers' working markings (`mark`) and the
  draft saves, and names people by their role; the staff variant leaves out
  the draft saves and names people with their role;
- times are the deployment zone's (`formatting.local_time`, `formatting.iso`).

`progress` marks every stage of the process the application has been at and
left as done (not only those with a clock).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.auth.roles import BUILTIN_ROLES
from formflow.db.models import Account, Application, Event, StageClock
from formflow.reviews import stage_forms
from formflow.text import formatting as fmt
from formflow.text.catalogue import _, lazy
from formflow.workflow.history import HIDDEN_FROM_CITIZENS, HIDDEN_FROM_REVIEWERS, event_title
from formflow.workflow.process import process
from formflow.workflow.spec import WorkflowSpec

CITIZEN = "citizen"
STAFF = "staff"
AUDIENCES = (CITIZEN, STAFF)
HIDDEN = {CITIZEN: HIDDEN_FROM_CITIZENS, STAFF: HIDDEN_FROM_REVIEWERS}
OUTCOME_TITLES = {"pass": lazy("passed"), "fail": lazy("not passed")}
#: What a stage of the process is for this application.
CURRENT, DONE, TODO = "current", "done", "todo"


@dataclass(frozen=True)
class Entry:
    """One event of the history, every value already as a person reads it."""

    id: int
    action: str
    title: str
    actor: str
    stage: str | None  # title of the stage where it happened
    to_stage: str | None  # title of the stage it led to
    note: str
    at: datetime | None  # the instant (aware, UTC)
    when: str  # local time, `2026-03-02 15:28`
    iso: str | None  # ISO 8601 with the deployment zone's offset
    #: Staff only: a marking's stage form values, (title, formatted value) (`reviews.stage_forms`).
    values: tuple[tuple[str, str], ...] = ()

    @property
    def moved(self) -> bool:
        """Did the event take the application to another stage?"""
        return bool(self.to_stage) and self.to_stage != self.stage


@dataclass(frozen=True)
class StageProgress:
    """One stage of the process as the citizen follows it."""

    id: str
    title: str
    limit: str
    owner: str
    state: str  # current | done | todo
    started: str
    due: str
    finished: str
    paused: bool

    @property
    def done(self) -> bool:
        return self.state == DONE

    @property
    def current(self) -> bool:
        return self.state == CURRENT


def action_title(spec: WorkflowSpec, action: str, from_stage: str | None) -> str:
    """The title of `action` taken at `from_stage` (a stage action, a citizen action, a platform event)."""
    stage = spec.stages.get(from_stage or "")
    if stage is not None and action in stage.actions:
        return stage.actions[action].title
    if action in spec.citizen:
        return spec.citizen[action].title
    own = event_title(action)
    if own != action:
        return own
    for other in spec.stages.values():  # an event written without its stage (older data)
        if action in other.actions:
            return other.actions[action].title
    return action


def _role_title(spec: WorkflowSpec, role: str | None) -> str:
    if role and role in spec.roles:
        return spec.role_title(role)
    if role and role in BUILTIN_ROLES:
        return BUILTIN_ROLES[role]
    return _("Staff")


def _actor(spec: WorkflowSpec, app: Application, event: Event, names: dict[int, str], audience: str) -> str:
    if event.actor_id is None:
        return _("System")
    if event.actor_id == app.applicant_id:
        role = _("Applicant")
    else:
        role = _role_title(spec, event.actor_role)
    if audience == CITIZEN:
        return role
    name = names.get(event.actor_id, "")
    return _("%(name)s (%(role)s)", name=name, role=role) if name else role


def _title(spec: WorkflowSpec, event: Event, audience: str) -> str:
    title = action_title(spec, event.action, event.from_stage)
    if event.action == "mark" and audience == STAFF:
        outcome = (event.details or {}).get("outcome")
        if outcome:
            shown = OUTCOME_TITLES.get(outcome)
            title = _("%(title)s (outcome: %(outcome)s)", title=title,
                      outcome=str(shown) if shown is not None else outcome)
    return title


def events_of(db: Session, app_id: int) -> list[Event]:
    return list(db.scalars(select(Event).where(Event.application_id == app_id).order_by(Event.id)))


def timeline(db: Session, app: Application, spec: WorkflowSpec, *, audience: str,
             events: Sequence[Event] | None = None) -> list[Entry]:
    """The application's history for `audience` ("citizen" or "staff"), oldest first."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}")
    rows = list(events) if events is not None else events_of(db, app.id)
    names: dict[int, str] = {}
    if audience == STAFF:
        ids = {e.actor_id for e in rows if e.actor_id}
        if ids:
            names = {a.id: a.display_name for a in db.scalars(select(Account).where(Account.id.in_(ids)))}
    hidden = HIDDEN[audience]
    entered = _stage_form_values(db, rows) if audience == STAFF else {}
    out = []
    for e in rows:
        if e.action in hidden:
            continue
        stage = spec.stages.get(e.from_stage or "")
        shown = stage_forms.shown_values(stage.form, entered[e.id]) if stage is not None and e.id in entered else []
        out.append(Entry(
            id=e.id, action=e.action, title=_title(spec, e, audience), actor=_actor(spec, app, e, names, audience),
            stage=_stage_title(spec, e.from_stage), to_stage=_stage_title(spec, e.to_stage),
            note=e.note or "", at=fmt.aware(e.at) if e.at else None, when=fmt.local_time(e.at), iso=fmt.iso(e.at),
            values=tuple(shown),
        ))
    return out


def _stage_form_values(db: Session, rows: Sequence[Event]) -> dict[int, dict[str, Any]]:
    """Event id → the stage form values of the marking a `mark` event recorded (one query)."""
    linked = {e.id: int((e.details or {})["marking"]) for e in rows
              if e.action == "mark" and isinstance((e.details or {}).get("marking"), int)}
    found = stage_forms.values_of_markings(db, linked.values())
    return {eid: found[mid] for eid, mid in linked.items() if mid in found}


def _stage_title(spec: WorkflowSpec, stage_id: str | None) -> str | None:
    stage = spec.stages.get(stage_id) if stage_id is not None else None
    return stage.title if stage is not None else None


def _visited(app: Application, events: Iterable[Event], clocks: Iterable[StageClock]) -> set[str]:
    seen: set[str] = set()
    for e in events:
        seen.update(s for s in (e.from_stage, e.to_stage) if s)
    seen.update(c.name for c in clocks)
    seen.update(app.stages or [])
    return seen


def _day(value: date | None) -> str:
    return fmt.day(value) if value else ""


def progress(db: Session, app: Application, workflow: dict[str, Any], *,
             events: Sequence[Event] | None = None) -> list[StageProgress]:
    """The workflow's stages in order, each current, done (been there and left) or still to come."""
    rows = list(events) if events is not None else events_of(db, app.id)
    clocks = list(db.scalars(select(StageClock).where(StageClock.application_id == app.id).order_by(StageClock.id)))
    last_clock = {c.name: c for c in clocks}
    visited = _visited(app, rows, clocks)
    current = set(app.stages or []) if app.status == "active" else set()
    out = []
    for step in process(workflow):
        sid = step["id"]
        state = CURRENT if sid in current else DONE if sid in visited else TODO
        clock = last_clock.get(sid)
        out.append(StageProgress(
            id=sid, title=step["title"], limit=step["time_limit"] or "", owner=step["owner"] or "", state=state,
            started=_day(clock.started_on) if clock else "", due=_day(clock.due_on) if clock else "",
            finished=_day(clock.stopped_on) if clock else "",
            paused=bool(clock and clock.paused_on and not clock.stopped_on),
        ))
    return out
