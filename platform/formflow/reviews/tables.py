"""Quantification tables: the JSON Schema of a marking, its outcome, its record.

A marking gives every criterion of every row `pass`, `fail` or `na`:

    {"rows": {"1": {"criteria": ["pass", "fail"], "note": "no seal"}, ...},
     "note": "overall opinion (optional)"}

Rows are keyed by their `no`; a row with a failed criterion needs a `note`.
Outcome: `fail` if any criterion fails, else `pass`.

A row may name the material kind it checks (`material`). When the
application neither requires that material nor provided it
(`not_applicable_rows`), the row is not applicable: its criteria can only be `na`,
and a marking may leave it out (`normalise_marking` records it as `na`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from formflow.applications.materials import ChecklistItem, provided
from formflow.db.models import Account, Application, Event, ReviewMarking
from formflow.forms.errors import FieldError, translate_all
from formflow.text.catalogue import _, lazy
from formflow.text.errors import FieldProblem, Refusal

PASS, FAIL, NA = "pass", "fail", "na"
VERDICTS = (PASS, FAIL, NA)
VERDICT_TITLES = [lazy("Meets"), lazy("Does not meet"), lazy("Not applicable")]
NOTE_MAX = 2000


class MarkingInvalid(Refusal, ValueError):
    """A marking does not fit its table; `errors` (and `fields`) say where and why."""

    code = "marking_invalid"
    status = 422

    def __init__(self, table_id: str, errors: Iterable[FieldError | FieldProblem], *,
                 marking: Any = None) -> None:
        self.table_id = table_id
        self.errors = [FieldError(e.pointer, e.message) for e in errors]
        #: The marking as it was checked (blanks of rows not applicable already filled), to show again.
        self.marking = marking
        super().__init__(
            _("The review table has %(n)s items to complete; please check the items marked in red.",
              n=len(self.errors)),
            fields=[FieldProblem(e.pointer, e.message) for e in self.errors], table=table_id,
        )


def row_key(row: Mapping[str, Any]) -> str:
    return str(row.get("no"))


def _row_schema(row: dict[str, Any], not_applicable: bool = False) -> dict[str, Any]:
    criteria = [str(c) for c in row.get("criteria") or []]
    titles = [str(t) for t in VERDICT_TITLES]
    verdict: dict[str, Any] = {"enum": list(VERDICTS), "x-enum-titles": titles}
    if not_applicable:
        verdict = {"enum": [NA], "x-enum-titles": [titles[2]]}
    schema: dict[str, Any] = {
        "type": "object",
        "title": _("Row %(no)s %(content)s", no=row_key(row), content=row.get("content", "")).strip(),
        "properties": {
            "criteria": {
                "type": "array",
                "title": _("Criteria"),
                "prefixItems": [{**verdict, "title": c} for c in criteria],
                "items": False,
                "minItems": len(criteria),
                "maxItems": len(criteria),
            },
            "note": {"type": "string", "title": _("Why it does not meet them"), "maxLength": NOTE_MAX},
        },
        "required": ["criteria"],
        "additionalProperties": False,
        "if": {"properties": {"criteria": {"contains": {"const": FAIL}}}, "required": ["criteria"]},
        "then": {"required": ["note"], "properties": {"note": {"minLength": 1}}},
    }
    if not_applicable:
        schema["x-not-applicable"] = True
    return schema


def not_applicable_rows(table: Mapping[str, Any], items: Iterable[ChecklistItem],
                        data: Mapping[str, Any]) -> frozenset[str]:
    """Keys of the rows about a material this application neither requires nor provided.

    `items` is the application's checklist. A row naming no material always
    applies; so does every row when the checklist is empty (no category yet:
    nothing can be ruled out).
    """
    listed = list(items)
    if not listed:
        return frozenset()
    applicable = {i.kind for i in listed if i.required or provided(i, data)}
    return frozenset(row_key(r) for r in table.get("rows") or []
                     if isinstance(r, Mapping) and r.get("material") and r["material"] not in applicable)


def marking_schema(table: dict[str, Any], not_applicable: Collection[str] = ()) -> dict[str, Any]:
    """JSON Schema of a marking of `table`: one entry per row, note required on fail.

    Rows in `not_applicable` (keys) may be left out and admit only `na`
    (marked `x-not-applicable`).
    """
    rows = table.get("rows") or []
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": str(table.get("title", table.get("id", ""))),
        "type": "object",
        "properties": {
            "rows": {
                "type": "object",
                "title": _("Review results"),
                "properties": {row_key(r): _row_schema(r, row_key(r) in not_applicable) for r in rows},
                "required": [row_key(r) for r in rows if row_key(r) not in not_applicable],
                "additionalProperties": False,
            },
            "note": {"type": "string", "title": _("Review opinion"), "maxLength": NOTE_MAX},
        },
        "required": ["rows"],
        "additionalProperties": False,
    }


def validate_marking(table: dict[str, Any], marking: Any, not_applicable: Collection[str] = ()) -> list[FieldError]:
    """Every problem of `marking` against `table`, with Chinese messages."""
    validator = Draft202012Validator(marking_schema(table, not_applicable))
    return translate_all(validator.iter_errors(marking))


def normalise_marking(table: dict[str, Any], marking: Any, not_applicable: Collection[str]) -> Any:
    """A copy of `marking` where the rows not applicable left out or blank read `na`.

    Only gaps are filled (a missing row, a missing or empty verdict): a verdict
    given stays as given, for `marking_problems` to judge.
    """
    if not isinstance(marking, Mapping) or not isinstance(marking.get("rows", {}), Mapping):
        return marking
    rows = dict(marking.get("rows") or {})
    for row in table.get("rows") or []:
        key = row_key(row)
        if key not in not_applicable:
            continue
        size = len(row.get("criteria") or [])
        entry = rows.get(key)
        if entry is None:
            rows[key] = {"criteria": [NA] * size}
            continue
        if not isinstance(entry, Mapping):
            continue
        criteria = entry.get("criteria")
        if criteria is None:
            criteria = [None] * size
        if isinstance(criteria, list) and len(criteria) == size:
            rows[key] = {**entry, "criteria": [NA if v in (None, "") else v for v in criteria]}
    return {**marking, "rows": rows}


def marking_problems(table: dict[str, Any], marking: Any, not_applicable: Collection[str] = ()) -> list[FieldError]:
    """`validate_marking`'s problems in the words a reviewer reads, one per place.

    A criterion without a verdict: "choose pass, fail or not applicable"; a fail without
    its note: "a fail needs its explanation"; pass/fail on a row that is not
    applicable: the row's material is not required for this application.
    """
    contents = {row_key(r): str(r.get("content") or row_key(r)) for r in table.get("rows") or []}
    out: dict[str, FieldError] = {}
    for error in validate_marking(table, marking, not_applicable):
        parts = error.path
        message = error.message
        if len(parts) >= 2 and parts[0] == "rows" and parts[1] in contents:
            row = parts[1]
            if len(parts) == 4 and parts[2] == "criteria":
                if row in not_applicable:
                    message = _("%(content)s is not required for this application; this row can only be marked "
                                "not applicable.", content=contents[row])
                else:
                    message = _("Please choose: meets, does not meet or not applicable.")
            elif len(parts) == 3 and parts[2] == "note" and _fails(marking, row) and not _noted(marking, row):
                message = _("A note is required when a criterion is marked as not met.")
        out.setdefault(error.pointer, FieldError(error.pointer, message))
    return list(out.values())


def _entry(marking: Any, row: str) -> Mapping[str, Any]:
    rows = marking.get("rows") if isinstance(marking, Mapping) else None
    entry = rows.get(row) if isinstance(rows, Mapping) else None
    return entry if isinstance(entry, Mapping) else {}


def _fails(marking: Any, row: str) -> bool:
    criteria = _entry(marking, row).get("criteria")
    return isinstance(criteria, list) and FAIL in criteria


def _noted(marking: Any, row: str) -> bool:
    return bool(str(_entry(marking, row).get("note") or "").strip())


def outcome(marking: dict[str, Any]) -> str:
    """`fail` if any criterion of any row fails, else `pass`."""
    for row in (marking.get("rows") or {}).values():
        if FAIL in (row or {}).get("criteria", []):
            return FAIL
    return PASS


@dataclass(frozen=True)
class MarkingSummary:
    rows: int
    failed_rows: list[str]
    outcome: str


def summarize(marking: dict[str, Any]) -> MarkingSummary:
    rows = marking.get("rows") or {}
    failed = [k for k, r in rows.items() if FAIL in (r or {}).get("criteria", [])]
    return MarkingSummary(rows=len(rows), failed_rows=failed, outcome=FAIL if failed else PASS)


def record_marking(
    session: Session,
    app: Application,
    stage: str,
    table_id: str,
    marking: dict[str, Any],
    reviewer: Account,
    pinned: Any,
    *,
    not_applicable: Collection[str] = (),
    values: Mapping[str, Any] | None = None,
) -> ReviewMarking:
    """Validate and store a marking with the table's pinned version, plus its event.

    `pinned` is the application's `packs.versions.Pinned`; `not_applicable`
    the rows only `na` may be given for (`not_applicable_rows`). `values`: the
    stage form's values, already validated (`reviews.stage_forms`), stored in
    the marking under `form`; the event's details then name the marking row.
    Raises `LookupError` for a table the application did not pin and
    `MarkingInvalid` for a bad marking.
    """
    table = pinned.table(table_id)
    version = (app.versions.get("tables") or {}).get(table_id)
    if table is None or version is None:
        raise LookupError(f"table {table_id!r} is not pinned by application {app.id}")
    errors = validate_marking(table, marking, not_applicable)
    if errors:
        raise MarkingInvalid(table_id, errors, marking=marking)
    summary = summarize(marking)
    row = ReviewMarking(
        application_id=app.id,
        stage=stage,
        table_id=table_id,
        table_version=version,
        marking=marking if values is None else {**marking, "form": dict(values)},
        outcome=summary.outcome,
        reviewer_id=reviewer.id,
    )
    session.add(row)
    details: dict[str, Any] = {"table": table_id, "outcome": summary.outcome, "failed_rows": summary.failed_rows}
    if values is not None:
        session.flush()  # the row's id, for the history to find the values
        details["marking"] = row.id
    session.add(Event(
        application_id=app.id,
        actor_id=reviewer.id,
        action="mark",
        from_stage=stage,
        to_stage=stage,
        note=marking.get("note"),
        details=details,
    ))
    session.flush()
    return row


def latest_marking(session: Session, app_id: int, stage: str, table_id: str) -> ReviewMarking | None:
    """The most recent marking of `table_id` at `stage` of an application."""
    return session.scalar(_LATEST, {"app_id": app_id, "stage": stage, "table_id": table_id})


_LATEST = (
    select(ReviewMarking)
    .where(ReviewMarking.application_id == bindparam("app_id"), ReviewMarking.stage == bindparam("stage"),
           ReviewMarking.table_id == bindparam("table_id"))
    .order_by(ReviewMarking.id.desc())
    .limit(1)
)
