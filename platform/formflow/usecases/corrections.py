"""Corrections: what a request must name, and what the citizen's answer must bring.

A reviewer's action that issues a correction request (an action with `correction: true`, taken
through `workflow.engine.perform` from the desk or the API) must name at least one material of
the pinned catalogue or say in its note what is to be corrected: `check_correction_request`
refuses an empty one before any numbered notice is issued.

The citizen answers with `answer_correction`: every named material whose place in the form takes
files needs a file uploaded since the request (uploads while the request is open are attached to
the application by `usecases.files.attach_file` and kept even when the answer is refused), and a
request naming no file (or naming what files cannot show) needs the citizen's note. Until then the
answer is refused with every missing item named, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.applications import drafts
from formflow.applications.materials import field_of
from formflow.db.models import Account, Application, Correction, Event
from formflow.forms.errors import pointer as to_pointer
from formflow.text.catalogue import _
from formflow.text.errors import FieldProblem
from formflow.usecases.files import correcting, file_fields, locked_application, path_of
from formflow.workflow.errors import WorkflowError
from formflow.workflow.moves import workflow_of


class EmptyCorrection(WorkflowError):
    """A correction request naming nothing to correct (no material, no note)."""

    code = "empty_correction"
    status = 422


class CorrectionUnanswered(WorkflowError):
    """The answer leaves named items of the correction request unanswered; `fields` says which."""

    code = "correction_unanswered"
    status = 422


def check_correction_request(materials: Mapping[str, Any] | None, named: Sequence[str], note: str | None) -> None:
    """Refuse a correction request that names nothing, or names a material the pinned catalogue lacks."""
    kinds = (materials or {}).get("kinds") or {}
    wanted = [str(k) for k in named if str(k).strip()]
    if not wanted and not (note or "").strip():
        message = _("A correction request must name at least one material to correct or say in the note what "
                    "is to be corrected.")
        raise EmptyCorrection(message, fields=[FieldProblem("/materials", message)])
    unknown = [k for k in wanted if k not in kinds]
    if unknown:
        message = _("The correction request names materials this application does not have: %(kinds)s",
                    kinds=_(", ").join(unknown))
        raise EmptyCorrection(message, code="unknown_material", fields=[FieldProblem("/materials", message)])


def _correction_actions(db: Session, app: Application) -> set[str]:
    spec = workflow_of(db, app)
    return {a.id for st in spec.stages.values() for a in st.actions.values() if a.correction}


def outstanding(db: Session, app: Application, note: str | None) -> list[FieldProblem]:
    """What the open correction requests still need from the citizen (empty: the answer may go)."""
    pending = list(db.scalars(select(Correction).where(Correction.application_id == app.id,
                                                       Correction.answered_on.is_(None)).order_by(Correction.id)))
    if not pending:
        return []
    pinned = drafts.pinned_of(db, app)
    materials = pinned.materials or {}
    kinds = materials.get("kinds") or {}
    since = db.scalar(select(Event.id).where(Event.application_id == app.id,
                                             Event.action.in_(_correction_actions(db, app)))
                      .order_by(Event.id.desc()).limit(1)) or 0
    uploaded = {str((e.details or {}).get("field")) for e in db.scalars(select(Event).where(
        Event.application_id == app.id, Event.action == "file_uploaded", Event.id > since))}
    takes_files = file_fields(pinned, app.data or {})
    problems: list[FieldProblem] = []
    needs_note = False
    seen: set[str] = set()
    for correction in pending:
        named = [k for k in correction.missing or [] if k in kinds]
        if not named:
            needs_note = True
        for kind in named:
            if kind in seen:
                continue
            seen.add(kind)
            try:
                where = field_of(materials, kind)
            except ValueError:
                needs_note = True
                continue
            if where not in takes_files:
                needs_note = True
            elif where not in uploaded:
                title = str((kinds.get(kind) or {}).get("title") or kind)
                problems.append(FieldProblem(to_pointer(path_of(where)), _("Please upload: %(title)s", title=title)))
    if needs_note and not (note or "").strip():
        problems.append(FieldProblem("/note", _("Please say in the correction note what was corrected.")))
    return problems


def answer_correction(
    services: Any,
    db: Session,
    actor: Account,
    app_id: int,
    note: str | None,
    *,
    expected_version: int,
) -> Any:
    """The citizen's answer to the open correction requests: refused until every named item is answered.

    Then the workflow engine resumes the clocks and records the one `answer_correction` event.
    """
    from formflow.workflow import engine

    app = locked_application(db, actor, app_id)
    note = (note or "").strip() or None
    if correcting(app) and app.version == int(expected_version) and actor.id == app.applicant_id:
        problems = outstanding(db, app, note)
        if problems:
            message = _("The correction is not complete yet: %(items)s",
                        items=_("; ").join(p.message for p in problems))
            raise CorrectionUnanswered(message, fields=problems)
    return engine.answer_correction(db, app_id, actor, expected_version=int(expected_version), note=note,
                                    calendar=services.calendar(app.pack), today=services.today())


__all__ = ["CorrectionUnanswered", "EmptyCorrection", "answer_correction", "check_correction_request",
           "outstanding"]
