"""The citizen's view: one's own applications, and one of them with its progress.

The applicant (or the window clerk who assisted them) sees the timeline for
citizens, the process, notices, the corrections to answer, the files and
whether they may withdraw; anyone else gets `not_found`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.applications import drafts as apps
from formflow.applications import materials as materials_mod
from formflow.db.models import Account, Application, Correction
from formflow.packs.versions import Pinned, load_pinned
from formflow.text import formatting as fmt
from formflow.text.catalogue import _
from formflow.usecases import timeline as tl
from formflow.usecases.viewing.summaries import (
    FileView,
    NoticeView,
    Summary,
    files,
    not_found,
    notices,
    spec_of,
    stage_title,
    summary,
)
from formflow.workflow.spec import WorkflowSpec


@dataclass(frozen=True)
class CorrectionItem:
    kind: str
    title: str
    requirement: str
    field: str | None


@dataclass(frozen=True)
class CorrectionView:
    id: int
    stage: str
    stage_title: str
    note: str
    requested_on: date | None
    requested: str
    answered_on: date | None
    missing: tuple[CorrectionItem, ...]


@dataclass(frozen=True)
class CitizenView:
    app: Summary
    data: dict[str, Any]  # the applicant's own data (for editing a draft through the API)
    versions: dict[str, Any]
    timeline: tuple[tl.Entry, ...]
    process: tuple[tl.StageProgress, ...]
    notices: tuple[NoticeView, ...]
    corrections: tuple[CorrectionView, ...]
    files: tuple[FileView, ...]
    withdrawable: bool
    withdraw_title: str


def _corrections(db: Session, app: Application, pinned: Pinned, spec: WorkflowSpec) -> tuple[CorrectionView, ...]:
    kinds = (pinned.materials or {}).get("kinds") or {}
    out = []
    for corr in db.scalars(select(Correction).where(Correction.application_id == app.id,
                                                    Correction.answered_on.is_(None)).order_by(Correction.id)):
        missing = []
        for kind in corr.missing or []:
            if kind not in kinds:
                continue
            try:
                where = materials_mod.field_of(pinned.materials, kind)
            except (ValueError, KeyError):
                where = None
            missing.append(CorrectionItem(kind, str(kinds[kind].get("title") or kind),
                                          str(kinds[kind].get("requirement") or ""), where))
        out.append(CorrectionView(corr.id, corr.stage, stage_title(spec, corr.stage), corr.note or "",
                                  corr.requested_on, fmt.day(corr.requested_on), corr.answered_on, tuple(missing)))
    return tuple(out)


def _withdrawable(app: Application, spec: WorkflowSpec) -> bool:
    withdraw = spec.citizen.get("withdraw")
    return app.status == "draft" or (
        app.status == "active" and withdraw is not None and any(withdraw.allowed_from(x) for x in app.stages or []))


# --------------------------------------------------------------------------- the use cases


def citizen_app(db: Session, actor: Account | None, app_id: int) -> Application:
    app = db.get(Application, app_id)
    if app is None or actor is None or not apps.may_view(app, actor):
        raise not_found()
    return app


def my_applications(services: Any, db: Session, actor: Account, *, limit: int = 200) -> list[Summary]:
    """The applications the person made or assisted with at the window, newest first."""
    rows = db.scalars(select(Application).where(
        (Application.applicant_id == actor.id) | (Application.assisted_by_id == actor.id)
    ).order_by(Application.id.desc()).limit(limit))
    return [summary(db, app) for app in rows]


def citizen_view(services: Any, db: Session, actor: Account | None, app_id: int) -> CitizenView:
    """The applicant's (or assisting clerk's) view: progress, timeline, notices, corrections to answer."""
    app = citizen_app(db, actor, app_id)
    pinned = load_pinned(db, app.versions)
    spec = spec_of(pinned)
    events = tl.events_of(db, app.id)
    withdraw = spec.citizen.get("withdraw")
    return CitizenView(
        app=summary(db, app, pinned, spec), data=copy.deepcopy(app.data or {}), versions=dict(app.versions or {}),
        timeline=tuple(tl.timeline(db, app, spec, audience=tl.CITIZEN, events=events)),
        process=tuple(tl.progress(db, app, pinned.workflow, events=events)),
        notices=notices(db, app.id), corrections=_corrections(db, app, pinned, spec), files=files(db, app.id),
        withdrawable=_withdrawable(app, spec),
        withdraw_title=withdraw.title if withdraw is not None else _("Withdraw the application"),
    )
