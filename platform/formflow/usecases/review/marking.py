"""Marking a stage's review table.

Rows of a table about a material this application neither requires nor
provided (`reviews.tables.not_applicable_rows`) are not applicable. Left blank they are
recorded as `na`; marked pass or fail they are refused, naming the row. The
marking is recorded with its history event in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from formflow.applications import drafts as apps
from formflow.db.models import Account, Application
from formflow.packs.versions import Pinned, load_pinned
from formflow.reviews.stage_forms import FORM_KEY, validate_values, values_in
from formflow.reviews.tables import (
    FAIL,
    NA,
    PASS,
    VERDICT_TITLES,
    MarkingInvalid,
    latest_marking,
    marking_problems,
    marking_schema,
    normalise_marking,
    not_applicable_rows,
    record_marking,
    summarize,
)
from formflow.text.catalogue import lazy
from formflow.usecases.review.reach import StageRef, attached, load, owned_stage, spec_of
from formflow.usecases.review.refusals import NoTable
from formflow.workflow.moves import check_version, lock_or_fail
from formflow.workflow.spec import Stage

#: Outcome of a marked table, as a person reads it.
OUTCOME_TITLES = {"pass": lazy("Pass"), "fail": lazy("Fail")}
#: The verdicts a criterion may get, (value, title), in the order they are offered.
VERDICTS = ((PASS, VERDICT_TITLES[0]), (FAIL, VERDICT_TITLES[1]), (NA, VERDICT_TITLES[2]))


@dataclass(frozen=True)
class MarkingForm:
    """A stage's review table as the reviewer fills it in."""

    app_id: int
    version: int
    stage: StageRef
    table_id: str
    table_version: str
    table: dict[str, Any]
    schema: dict[str, Any]
    marking: dict[str, Any] | None
    outcome: str | None
    not_applicable: frozenset[str]
    #: The stage's reviewer-entered fields (JSON Schema object fragment), None when it has none.
    form: dict[str, Any] | None = None


@dataclass(frozen=True)
class Marked:
    app_id: int
    stage: StageRef
    table_id: str
    outcome: str
    failed_rows: list[str]
    marking: dict[str, Any]
    #: The stage form's values as stored (empty when the stage has no form).
    values: dict[str, Any] | None = None

    @property
    def outcome_title(self) -> str:
        return str(OUTCOME_TITLES.get(self.outcome, self.outcome))


def inapplicable_rows(services: Any, pinned: Pinned, app: Application, table: Mapping[str, Any]) -> frozenset[str]:
    try:
        items = apps.checklist(pinned, app.data or {}, services.today())
    except Exception:  # noqa: BLE001 - a checklist that cannot be worked out rules nothing out
        return frozenset()
    return not_applicable_rows(table, items, app.data or {})


def _table_of(db: Session, app: Application, stage: Stage) -> tuple[Pinned, dict[str, Any]]:
    if not stage.table:
        raise NoTable(stage.id)
    pinned = load_pinned(db, app.versions)
    table = pinned.table(stage.table)
    if table is None:
        raise NoTable(stage.id)
    return pinned, table


def marking_form(services: Any, db: Session, actor: Account, app_id: int, stage_id: str) -> MarkingForm:
    """The stage's table, the JSON Schema a marking must fit, the latest marking and the rows not applicable."""
    app = load(services, db, actor, app_id)
    pinned = load_pinned(db, app.versions)
    spec = spec_of(pinned)
    stage = owned_stage(db, app, actor, spec, stage_id)
    pinned, table = _table_of(db, app, stage)
    na = inapplicable_rows(services, pinned, app, table)
    latest = latest_marking(db, app.id, stage.id, stage.table or "")
    return MarkingForm(
        app_id=app.id, version=app.version, stage=StageRef(stage.id, stage.title), table_id=stage.table or "",
        table_version=str((app.versions.get("tables") or {}).get(stage.table, "")), table=table,
        schema=marking_schema(table, na), marking=latest.marking if latest else None,
        outcome=latest.outcome if latest else None, not_applicable=na,
        form=plain_form(stage.form) if stage.form else None,
    )


def plain_form(fragment: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): (dict(v) if isinstance(v, Mapping) else v) for k, v in fragment.items()}


def mark(services: Any, db: Session, actor: Account, app_id: int, stage_id: str, marking: Any, *,
         expected_version: int | None = None) -> Marked:
    """Record a marking of the stage's table (with its `mark` event).

    Refuses (`MarkingInvalid`, 422, one field per problem, pointers relative to
    the marking) a gap, a fail without its note, and pass/fail on a row that
    is not applicable to this application; blanks on such rows become `na`.
    A stage with a form takes its values in the marking's `form` (validated by
    `reviews.stage_forms`, problems at `/form/<field>`) and stores them with it.
    `expected_version` None skips the version check (a marking does not move
    the application); the row is locked so the stage cannot move meanwhile.
    """
    load(services, db, actor, app_id)
    app = lock_or_fail(db, app_id)
    pinned = load_pinned(db, app.versions)
    spec = spec_of(pinned)
    if expected_version is not None:
        check_version(app, expected_version, spec)
    stage = owned_stage(db, app, actor, spec, stage_id)
    pinned, table = _table_of(db, app, stage)
    na = inapplicable_rows(services, pinned, app, table)
    values: Any = None
    if stage.form and isinstance(marking, Mapping):
        values = marking.get(FORM_KEY)
        marking = {k: v for k, v in marking.items() if k != FORM_KEY}
        values = {} if values is None else values
    filled = normalise_marking(table, marking, na)
    problems = marking_problems(table, filled, na)
    if stage.form:
        problems = [*problems, *validate_values(stage.form, values)]
    if problems:
        shown = {**filled, FORM_KEY: values} if stage.form and isinstance(filled, Mapping) else filled
        raise MarkingInvalid(stage.table or "", problems, marking=shown)
    saved = record_marking(db, app, stage.id, stage.table or "", filled, attached(db, actor), pinned,
                           not_applicable=na, values=values if stage.form else None)
    summary = summarize(saved.marking)
    return Marked(app.id, StageRef(stage.id, stage.title), stage.table or "", saved.outcome, summary.failed_rows,
                  saved.marking, values_in(saved.marking) if stage.form else None)
