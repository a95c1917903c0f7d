"""Objections raised during a public-notice (timer) stage: recording one, dismissing one."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from formflow.db.models import Account
from formflow.usecases.review.acting import NOTE_MAX
from formflow.usecases.review.reach import attached, load
from formflow.usecases.review.refusals import ObjectionNoteRequired
from formflow.workflow import engine


def record_objection(services: Any, db: Session, actor: Account, app_id: int, stage_id: str, *, note: str | None,
                     expected_version: int) -> engine.Transition:
    """Record an objection raised during a public-notice stage; an open one blocks its expiry."""
    app = load(services, db, actor, app_id)
    text = (note or "").strip()[:NOTE_MAX]
    if not text:
        raise ObjectionNoteRequired(stage_id)
    return engine.record_objection(db, app_id, attached(db, actor), stage=stage_id, note=text,
                                   expected_version=expected_version, today=services.today(),
                                   calendar=services.calendar(app.pack))


def dismiss_objection(services: Any, db: Session, actor: Account, app_id: int, objection_id: int, *,
                      note: str | None, expected_version: int) -> engine.Transition:
    """The objection does not hold: it closes and the stage's timer runs on."""
    app = load(services, db, actor, app_id)
    text = (note or "").strip()[:NOTE_MAX] or None
    return engine.resolve_objection(
        db, app_id, attached(db, actor), objection_id=objection_id, upheld=False, note=text,
        expected_version=expected_version, calendar=services.calendar(app.pack), today=services.today(),
        storage=services.storage, renderers=services.renderers, keys=services.keys,
    )
