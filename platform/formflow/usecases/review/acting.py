"""The actions on offer at the reviewer's stages, and taking one through the workflow engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from formflow.db.models import Account, Application
from formflow.packs.versions import load_pinned
from formflow.text.catalogue import _
from formflow.text.errors import Refusal
from formflow.usecases.review.reach import StageRef, applicant_of, attached, load, spec_of, stage_refs
from formflow.usecases.review.refusals import UnknownAction
from formflow.workflow import engine
from formflow.workflow.access import authority
from formflow.workflow.errors import ActionNotAvailable, ReasonRequired
from formflow.workflow.spec import WorkflowSpec

NOTE_MAX = 2000


@dataclass(frozen=True)
class ActionOffer:
    """One action at one current stage the reviewer owns; `why_not` when the guard does not hold now."""

    stage: str
    stage_title: str
    action: str
    title: str
    allowed: bool
    why_not: str | None
    reason_required: bool
    correction: bool
    targets: tuple[str, ...]
    target_titles: tuple[str, ...]
    #: Taking it ends the application (a target is an end stage): a channel with people asks to confirm.
    irreversible: bool


@dataclass(frozen=True)
class ActionsOffered:
    app_id: int
    number: str
    version: int
    applicant: str
    id_masked: str
    actions: list[ActionOffer] = field(default_factory=list)

    def find(self, stage: str, action: str) -> ActionOffer | None:
        return next((a for a in self.actions if a.stage == stage and a.action == action), None)


@dataclass(frozen=True)
class Acted:
    """The application after an action, with the titles a person reads."""

    app_id: int
    number: str
    action: str
    action_title: str
    version: int
    status: str
    result: str | None
    awaiting: str | None
    deadline: date | None
    stages: tuple[StageRef, ...]
    event_id: int
    notices: tuple[engine.IssuedNotice, ...]

    @property
    def stage_titles(self) -> str:
        return _(", ").join(s.title for s in self.stages)


def available_actions(services: Any, db: Session, actor: Account, app_id: int) -> ActionsOffered:
    """Every action of every current stage the actor owns, whether it may be taken now, and why not."""
    app = load(services, db, actor, app_id)
    pinned = load_pinned(db, app.versions)
    spec = spec_of(pinned)
    found = engine.available_actions(db, app, attached(db, actor), today=services.today())
    offers = []
    for a in found:
        ends = tuple(t for t in a.targets if t in spec.stages and spec.stages[t].is_end)
        offers.append(ActionOffer(
            stage=a.stage, stage_title=a.stage_title, action=a.action, title=a.title, allowed=a.allowed,
            why_not=a.why_not, reason_required=a.reason_required, correction=a.correction, targets=tuple(a.targets),
            target_titles=tuple(spec.stages[t].title for t in a.targets if t in spec.stages),
            irreversible=bool(ends),
        ))
    name, masked = applicant_of(services, db, app)
    return ActionsOffered(app.id, app.number or str(app.id), app.version, name, masked, offers)


def refusal_before_acting(offer: ActionOffer | None, note: str | None) -> Refusal | None:
    """What `act` would refuse about the note alone (asked before a confirmation page is shown)."""
    if offer is not None and offer.allowed and offer.reason_required and not (note or "").strip():
        return ReasonRequired(offer.action, offer.stage)
    return None


def _stage_for(db: Session, app: Application, actor: Account, spec: WorkflowSpec, action_id: str) -> str:
    """The one current stage the actor owns that offers `action_id` (when a channel names none)."""
    mine = []
    for sid in app.stages or []:
        stage = spec.stages.get(sid)
        owner = stage.owner if stage is not None else None
        if stage is not None and owner is not None and action_id in stage.actions \
                and authority(db, app, actor, owner.role, owner.level) is not None:
            mine.append(sid)
    if len(mine) != 1:
        raise ActionNotAvailable(action_id, None, "", _("Please name the stage to act at.") if mine
                                 else _("This action cannot be taken now."))
    return mine[0]


def act(services: Any, db: Session, actor: Account, app_id: int, action_id: str, *, stage: str | None = None,
        note: str | None, materials: Sequence[str] = (), expected_version: int) -> Acted:
    """Take `action_id` at `stage` (the actor's only stage offering it when None) of the application.

    The engine locks the row, checks the version (`StaleApplication`), the
    actor's standing and the guard (`ActionNotAvailable`/`GuardNotMet`) and the
    reason (`ReasonRequired`), then moves, issues notices and writes the event.
    """
    app = load(services, db, actor, app_id)
    spec = spec_of(load_pinned(db, app.versions))
    if (stage is not None and stage not in spec.stages) or not any(action_id in st.actions
                                                                    for st in spec.stages.values()):
        raise UnknownAction(action_id, stage)
    text = (note or "").strip()[:NOTE_MAX] or None
    stage_id = stage or _stage_for(db, app, actor, spec, action_id)
    picked = [str(m)[:64] for m in materials][:50]
    done = engine.perform(
        db, app_id, stage=stage_id, action=action_id, actor=attached(db, actor), note=text,
        expected_version=expected_version, calendar=services.calendar(app.pack), today=services.today(),
        storage=services.storage, renderers=services.renderers, materials=picked, keys=services.keys,
    )
    title = spec.stages[stage_id].actions[action_id].title
    return Acted(
        app_id=done.application_id, number=app.number or str(app.id), action=action_id, action_title=title,
        version=done.version, status=done.status, result=done.result, awaiting=done.awaiting,
        deadline=done.deadline, stages=stage_refs(spec, done.stages), event_id=done.event_id, notices=done.notices,
    )
