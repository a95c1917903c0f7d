"""A lottery stage (`kind: lottery`): applications wait at it until a batch draw moves them.

The batch is an ordinary lottery batch (`allocation.draws`: the same flats,
commitment of the inputs and of the seed, witness, published JSON and
verification) whose `stage` names the workflow stage; its entrants are the
applications at that stage when the batch is set up (each with its number as
the entrant code, the householder's name masked and the household size read
by the stage's `entrant` fields, by default allocation.yaml's household name
and size fact). Applications entering the stage later are in a later batch.

At the draw, in the draw's transaction, each entrant application still at the
stage moves to `on_win` (event `lottery_won`, the flat in its details and note)
or `on_lose` (event `lottery_lost`), one history event each. An entrant that
left the stage between setting up and the draw (withdrawn) is not moved; the
result stays the published, verifiable one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.allocation import lottery
from formflow.allocation.config import Allocation
from formflow.allocation.register import AllocationError, mask_name, recorded
from formflow.calendars.workdays import WorkCalendar
from formflow.db.models import Account, Application, ApplicationStage, Event, LotteryBatch
from formflow.forms.rules import evaluate
from formflow.packs.versions import load_pinned
from formflow.reviews.stage_forms import stage_values
from formflow.text.catalogue import _
from formflow.workflow.access import role_names
from formflow.workflow.moves import ACTIVE, Move, default_calendar, lock, workflow_of
from formflow.workflow.spec import LOTTERY_KIND, Stage

WON, LOST = "lottery_won", "lottery_lost"


def lottery_stages(workflow: Mapping[str, Any] | None) -> dict[str, str]:
    """Stage id → title of the lottery stages of a workflow document."""
    stages = (workflow or {}).get("stages") or {}
    return {sid: str(st.get("title", sid)) for sid, st in stages.items()
            if isinstance(st, dict) and st.get("kind") == LOTTERY_KIND}


def _stage_of(session: Session, app: Application, stage_id: str) -> Stage | None:
    """The application's pinned lottery stage `stage_id`, or None when its workflow has no such stage."""
    stage = workflow_of(session, app).stages.get(stage_id)
    return stage if stage is not None and stage.is_lottery else None


def at_stage(session: Session, alloc: Allocation, stage_id: str, *,
             paths: list[str] | None = None) -> list[Application]:
    """Active applications of the allocation's matter now at `stage_id`, in the order they were submitted."""
    query = (select(Application)
             .join(ApplicationStage, ApplicationStage.application_id == Application.id)
             .where(ApplicationStage.stage == stage_id, Application.pack == alloc.pack,
                    Application.matter == alloc.matter, Application.status == ACTIVE)
             .order_by(Application.id))
    apps = list(session.scalars(query))
    if paths is not None:
        apps = [a for a in apps if any((a.office_path or "").startswith(p) for p in paths)]
    return apps


def entrant(session: Session, app: Application, stage: Stage, alloc: Allocation, today: date) -> dict[str, Any]:
    """The entrant of an application: its number, the householder's name masked, the household size."""
    pinned = load_pinned(session, app.versions)
    scope = pinned.ruleset.variables(app.data or {}, today)
    scope["stage"] = stage_values(session, app.id, workflow_of(session, app).stages.values())
    fields = dict(stage.entrant or {})
    household = alloc.spec.get("household") or {}
    size_logic = fields.get("size", (alloc.facts.get(alloc.size_fact) or {}).get("logic"))
    name_logic = fields.get("name", household.get("name"))
    name = evaluate(name_logic, scope) if name_logic is not None else None
    return {"code": app.number or str(app.id), "name": mask_name(str(name or "")),
            "size": evaluate(size_logic, scope) if size_logic is not None else None}


def create_batch(session: Session, alloc: Allocation, *, stage: str, title: str, flats: list[dict[str, Any]],
                 actor: Account, today: date, paths: list[str] | None = None) -> LotteryBatch:
    """A draft batch whose entrants are the applications at `stage` that at least one flat suits."""
    entrants = []
    for app in at_stage(session, alloc, stage, paths=paths):
        st = _stage_of(session, app, stage)
        if st is None:
            continue
        row = entrant(session, app, st, alloc, today)
        if any(lottery._fits(f, row["size"]) for f in flats):
            entrants.append(row)
    if not entrants:
        raise AllocationError(_("No application waiting at this stage suits these flats"), code="no_entrants")
    batch = LotteryBatch(pack=alloc.pack, matter=alloc.matter, mode=alloc.lottery_mode or "", stage=stage,
                         title=title.strip() or str((alloc.lottery or {}).get("title", "")), status="draft",
                         flats=flats, entrants=entrants, created_by=actor.id)
    session.add(batch)
    session.flush()
    return batch


def _by_number(session: Session, batch: LotteryBatch, codes: Sequence[str]) -> dict[str, Application]:
    return {a.number or str(a.id): a for a in session.scalars(select(Application).where(
        Application.pack == batch.pack, Application.matter == batch.matter, Application.number.in_(list(codes))))}


def check_still_at_stage(session: Session, batch: LotteryBatch) -> None:
    """At the commit: every entrant is still at the batch's stage (else the batch must be set up again)."""
    codes = [str(e["code"]) for e in batch.entrants]
    apps = _by_number(session, batch, codes)
    gone = [c for c in codes if c not in apps or apps[c].status != ACTIVE
            or batch.stage not in (apps[c].stages or [])]
    if gone:
        raise AllocationError(_("These applications are no longer at the lottery stage; please set up the batch "
                                "again: %(codes)s", codes=_(", ").join(gone)), code="entrants_gone", codes=gone)


def entrant_stages(session: Session, batch: LotteryBatch) -> dict[str, str]:
    """Entrant code (application number) → the titles of the stages its application is at now."""
    out: dict[str, str] = {}
    for code, app in _by_number(session, batch, [str(e["code"]) for e in batch.entrants]).items():
        spec = workflow_of(session, app)
        out[code] = _(", ").join(spec.stages[s].title if s in spec.stages else s for s in app.stages or [])
    return out


@dataclass
class StageDraw:
    """What the draw did to the applications of a stage batch."""

    won: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    #: entrants no longer at the stage at the draw: not moved
    skipped: list[str] = field(default_factory=list)


def move_entrants(session: Session, batch: LotteryBatch, actor: Account, *, today: date,
                  calendar: Callable[[str], WorkCalendar] | None = None) -> StageDraw:
    """Move every entrant still at the stage to `on_win` / `on_lose`, one history event each (caller's transaction)."""
    report = StageDraw()
    flats = {f["code"]: f for f in batch.flats}
    ids = {code: app.id for code, app in _by_number(
        session, batch, [str(r["entrant"]) for r in batch.result or []]).items()}
    stage_id = str(batch.stage)
    for row in batch.result or []:
        code = str(row["entrant"])
        app = lock(session, ids[code]) if code in ids else None
        stage = _stage_of(session, app, stage_id) if app is not None else None
        if app is None or stage is None or app.status != ACTIVE or stage_id not in (app.stages or []):
            report.skipped.append(code)
            continue
        won = row["flat"] is not None
        target = str(stage.on_win if won else stage.on_lose)
        move = Move.of(session, app, today, calendar(app.pack) if calendar else default_calendar())
        move.go(stage_id, (target,))
        flat = dict(flats[row["flat"]], batch=batch.id) if won else None
        details: dict[str, Any] = {"batch": batch.id, "order": row["order"], "ticket": row["ticket"],
                                   "flat": flat, "to": [target], "stages": list(app.stages or [])}
        if app.status != ACTIVE:
            details["result"] = app.result
        note = (recorded("%(batch)s: drew %(flat)s (place %(order)s)", batch=batch.title, flat=row["flat"],
                         order=row["order"]) if won else
                recorded("%(batch)s: no flat drawn (place %(order)s)", batch=batch.title, order=row["order"]))
        if won and flat is not None and flat.get("address"):
            note = f"{note} {flat['address']}"
        roles = role_names(session, actor, app)
        move.finish(Event(actor_id=actor.id, actor_role=roles[0] if roles else None, action=WON if won else LOST,
                          from_stage=stage_id, to_stage=target, note=note, details=details))
        (report.won if won else report.lost).append(code)
    return report
