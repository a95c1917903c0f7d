"""Quantification tables: the JSON Schema of a marking, its outcome, its record.

A marking gives every criterion of every row `pass`, `fail` or `na`:

    {"rows": {"1": {"criteria": ["pass", "fail"], "note": "未盖章"}, ...},
     "note": "总体意见（可选）"}

Rows are keyed by their `no`; a row with a failed criterion needs a `note`.
Outcome: `fail` if any criterion fails, else `pass`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.db.models import Account, Application, Event, ReviewMarking
from formflow.forms.errors import FieldError, translate_all

PASS, FAIL, NA = "pass", "fail", "na"
VERDICTS = (PASS, FAIL, NA)
VERDICT_TITLES = ["符合", "不符合", "不适用"]
NOTE_MAX = 2000


class MarkingInvalid(ValueError):
    """A marking does not fit its table; `errors` say where and why."""

    def __init__(self, table_id: str, errors: list[FieldError]) -> None:
        self.table_id = table_id
        self.errors = errors
        listed = "；".join(f"{e.pointer} {e.message}" for e in errors[:5])
        super().__init__(f"marking of table {table_id!r} is invalid：{listed}")


def row_key(row: dict[str, Any]) -> str:
    return str(row.get("no"))


def _row_schema(row: dict[str, Any]) -> dict[str, Any]:
    criteria = [str(c) for c in row.get("criteria") or []]
    verdict = {"enum": list(VERDICTS), "x-enum-titles": VERDICT_TITLES}
    return {
        "type": "object",
        "title": f"第{row_key(row)}行 {row.get('content', '')}".strip(),
        "properties": {
            "criteria": {
                "type": "array",
                "title": "裁量基准",
                "prefixItems": [{**verdict, "title": c} for c in criteria],
                "items": False,
                "minItems": len(criteria),
                "maxItems": len(criteria),
            },
            "note": {"type": "string", "title": "不符合的说明", "maxLength": NOTE_MAX},
        },
        "required": ["criteria"],
        "additionalProperties": False,
        "if": {"properties": {"criteria": {"contains": {"const": FAIL}}}, "required": ["criteria"]},
        "then": {"required": ["note"], "properties": {"note": {"minLength": 1}}},
    }


def marking_schema(table: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema of a marking of `table`: one entry per row, note required on fail."""
    rows = table.get("rows") or []
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": str(table.get("title", table.get("id", ""))),
        "type": "object",
        "properties": {
            "rows": {
                "type": "object",
                "title": "审查结果",
                "properties": {row_key(r): _row_schema(r) for r in rows},
                "required": [row_key(r) for r in rows],
                "additionalProperties": False,
            },
            "note": {"type": "string", "title": "审查意见", "maxLength": NOTE_MAX},
        },
        "required": ["rows"],
        "additionalProperties": False,
    }


def validate_marking(table: dict[str, Any], marking: Any) -> list[FieldError]:
    """Every problem of `marking` against `table`, with Chinese messages."""
    validator = Draft202012Validator(marking_schema(table))
    return translate_all(validator.iter_errors(marking))


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
) -> ReviewMarking:
    """Validate and store a marking with the table's pinned version, plus its event.

    `pinned` is the application's `packs.versions.Pinned`. Raises `LookupError`
    for a table the application did not pin and `MarkingInvalid` for a bad marking.
    """
    table = pinned.table(table_id)
    version = (app.versions.get("tables") or {}).get(table_id)
    if table is None or version is None:
        raise LookupError(f"table {table_id!r} is not pinned by application {app.id}：审查表不存在")
    errors = validate_marking(table, marking)
    if errors:
        raise MarkingInvalid(table_id, errors)
    summary = summarize(marking)
    row = ReviewMarking(
        application_id=app.id,
        stage=stage,
        table_id=table_id,
        table_version=version,
        marking=marking,
        outcome=summary.outcome,
        reviewer_id=reviewer.id,
    )
    session.add(row)
    session.add(Event(
        application_id=app.id,
        actor_id=reviewer.id,
        action="mark",
        from_stage=stage,
        to_stage=stage,
        note=marking.get("note"),
        details={"table": table_id, "outcome": summary.outcome, "failed_rows": summary.failed_rows},
    ))
    session.flush()
    return row


def latest_marking(session: Session, app_id: int, stage: str, table_id: str) -> ReviewMarking | None:
    """The most recent marking of `table_id` at `stage` of an application."""
    return session.scalar(
        select(ReviewMarking)
        .where(ReviewMarking.application_id == app_id, ReviewMarking.stage == stage,
               ReviewMarking.table_id == table_id)
        .order_by(ReviewMarking.id.desc())
        .limit(1)
    )
