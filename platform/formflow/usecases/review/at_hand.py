"""The stages at hand: what a reviewer may do on one application now.

Every current stage they own, with its table, its latest marking, the actions
on offer and the objections raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.db.models import Account, Objection, StageClock
from formflow.packs.versions import load_pinned
from formflow.reviews.tables import latest_marking
from formflow.usecases.review.acting import ActionOffer, available_actions
from formflow.usecases.review.marking import OUTCOME_TITLES, inapplicable_rows, plain_form
from formflow.usecases.review.reach import load, owned_stage, spec_of
from formflow.usecases.review.refusals import NotInReach
from formflow.workflow import clocks


@dataclass(frozen=True)
class ObjectionLine:
    """An objection recorded at a timer stage; open while `resolved_on` is None."""

    id: int
    raised_on: date
    note: str
    resolved_on: date | None
    upheld: bool | None
    resolution: str | None
    #: the day its review is due (the stage's `objections.time_limit`), and whether that day has passed
    review_due_on: date | None = None
    review_overdue: bool = False


@dataclass(frozen=True)
class StageAtHand:
    """One current stage the reviewer owns: its table, latest marking, actions on offer and objections."""

    id: str
    title: str
    is_timer: bool
    table_id: str | None
    table: dict[str, Any] | None
    marking: dict[str, Any] | None
    outcome: str | None
    actions: tuple[ActionOffer, ...]
    accepts_objections: bool
    objections: tuple[ObjectionLine, ...]
    #: Rows of the table about a material this application neither requires nor provided (only `na`).
    not_applicable: frozenset[str]
    #: The stage's reviewer-entered fields (JSON Schema object fragment; entered with the marking), or None.
    form: dict[str, Any] | None = None

    @property
    def outcome_title(self) -> str:
        return str(OUTCOME_TITLES.get(self.outcome, self.outcome)) if self.outcome else ""


@dataclass(frozen=True)
class AtHand:
    """What the reviewer may do on one application now (the version their forms must carry)."""

    app_id: int
    version: int
    stages: tuple[StageAtHand, ...]
    #: Material kinds a correction request may name: (kind, title), as the pinned catalogue lists them.
    correction_materials: tuple[tuple[str, str], ...]


def objection_clocks(db: Session, app_id: int) -> dict[int, StageClock]:
    """The review clock of each objection of the application that has one, by objection id."""
    found: dict[int, StageClock] = {}
    for clock in db.scalars(select(StageClock).where(StageClock.application_id == app_id,
                                                     StageClock.name.startswith(clocks.OBJECTION_PREFIX))):
        oid = clocks.objection_id(clock.name)
        if oid is not None:
            found[oid] = clock
    return found


def _review_due(clock: StageClock | None, today: date) -> tuple[date | None, bool]:
    if clock is None or clock.due_on is None:
        return None, False
    return clock.due_on, clock.stopped_on is None and clock.due_on < today


def stages_at_hand(services: Any, db: Session, actor: Account, app_id: int) -> AtHand:
    """Every current stage the actor owns, with its table, latest marking, actions on offer and objections."""
    app = load(services, db, actor, app_id)
    pinned = load_pinned(db, app.versions)
    spec = spec_of(pinned)
    offered = available_actions(services, db, actor, app_id)
    review_clocks = objection_clocks(db, app.id)
    out = []
    for stage_id in app.stages or []:
        try:
            stage = owned_stage(db, app, actor, spec, stage_id)
        except NotInReach:
            continue
        table = pinned.table(stage.table) if stage.table else None
        latest = latest_marking(db, app.id, stage.id, stage.table) if stage.table and table is not None else None
        objections = tuple(ObjectionLine(o.id, o.raised_on, o.note, o.resolved_on, o.upheld, o.resolution,
                                         *_review_due(review_clocks.get(o.id), services.today()))
                           for o in db.scalars(select(Objection).where(
                               Objection.application_id == app.id, Objection.stage == stage.id).order_by(Objection.id)))
        out.append(StageAtHand(
            id=stage.id, title=stage.title, is_timer=stage.is_timer, table_id=stage.table, table=table,
            marking=latest.marking if latest else None, outcome=latest.outcome if latest else None,
            actions=tuple(a for a in offered.actions if a.stage == stage.id),
            accepts_objections=stage.is_timer and stage.objections, objections=objections,
            not_applicable=inapplicable_rows(services, pinned, app, table) if table is not None else frozenset(),
            form=plain_form(stage.form) if stage.form and table is not None else None,
        ))
    kinds = pinned.materials.get("kinds") or {}
    return AtHand(app.id, app.version, tuple(out),
                  tuple((str(k), str((v or {}).get("title") or k)) for k, v in kinds.items()))
