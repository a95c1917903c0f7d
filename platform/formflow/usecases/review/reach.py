"""Reach: which applications a reviewer may see, and which current stages are theirs.

A reviewer sees an application only when it lies under one of the offices
where they hold a role owning a stage of its pack's workflow
(`reviews.queue.reach_of`); a stage is theirs when it is current and they hold
its owner role at the owning office. Also the small lookups every reviewing
use case shares (stage titles, the applicant's name and masked ID number).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from formflow.db.models import Account, Application
from formflow.packs.versions import Pinned
from formflow.reviews import queue as queue_mod
from formflow.text.formatting import mask_id
from formflow.usecases.review.refusals import NotInReach
from formflow.usecases.viewing.summaries import StageRef  # one (id, title) shape for every use case
from formflow.workflow.access import authority
from formflow.workflow.spec import Stage, WorkflowSpec, spec_for


def spec_of(pinned: Pinned) -> WorkflowSpec:
    return spec_for(pinned.versions["workflow"], pinned.workflow)


def stage_refs(spec: WorkflowSpec, stages: Sequence[str] | None) -> tuple[StageRef, ...]:
    return tuple(StageRef(s, spec.stages[s].title if s in spec.stages else s) for s in stages or ())


def reach(services: Any, db: Session, actor: Account) -> list[queue_mod.Reach]:
    """The (role, office) pairs of the actor that own stages of some pack."""
    return queue_mod.reach_of(db, actor.id, services.packs)


def load(services: Any, db: Session, actor: Account, app_id: int, *,
         within: Sequence[queue_mod.Reach] | None = None) -> Application:
    """The application, if it lies within the actor's reach (any stage: history stays readable).

    `within`: the actor's reach when the caller already has it.
    """
    if not queue_mod.in_reach(db, app_id, reach(services, db, actor) if within is None else within):
        raise NotInReach(app_id)
    app = db.get(Application, app_id)
    if app is None:
        raise NotInReach(app_id)
    return app


def owned_stage(db: Session, app: Application, actor: Account, spec: WorkflowSpec, stage_id: str) -> Stage:
    """A current stage of the application the actor owns; `NotInReach` otherwise."""
    stage = spec.stages.get(stage_id)
    if (stage is None or stage.owner is None or app.status != "active" or stage_id not in (app.stages or [])
            or authority(db, app, actor, stage.owner.role, stage.owner.level) is None):
        raise NotInReach(app.id)
    return stage


def attached(db: Session, actor: Account) -> Account:
    """The actor as an object of this session (the engine writes through it)."""
    found = db.get(Account, actor.id)
    if found is None:
        raise NotInReach()
    return found


def masked_id(services: Any, who: Account | None) -> str:
    from formflow.personal.numbers import id_number_of

    number = id_number_of(services.keys, who)
    return mask_id(number) if number else ""


def applicant_of(services: Any, db: Session, app: Application) -> tuple[str, str]:
    """The applicant's name and masked ID number."""
    who = db.get(Account, app.applicant_id)
    return (who.display_name if who else ""), masked_id(services, who)
