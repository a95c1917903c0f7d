"""Stage forms: fields a reviewer enters at a stage, beside its review table.

A workflow stage may declare `form`, a JSON Schema fragment (an object of
simple-typed properties: string, number, integer, boolean; `enum`, `format`,
bounds as in a citizen's form). The values are entered with the stage's
marking (same page, same click; on the API inside the marking as `form`) and
stored in the marking record (`review_markings.marking["form"]`), in the
marking's transaction with its `mark` event (whose details name the marking
row, so the history can show the values).

Validation is the citizen form's: the platform's format checker and the
Chinese messages of `forms.errors`, pointers `/form/<field>`.

The values of every stage are readable by guards (`rule`) and by notices as
`stage.<stage-id>.<field>` (JSON Logic `{"var": "stage.district_review.verified_income"}`),
and by notice templates as `stage_values[<stage-id>][<field>]`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.db.models import ReviewMarking
from formflow.forms.errors import FieldError, translate_all
from formflow.forms.formats import FORMAT_MESSAGES, FORMATS
from formflow.forms.render import coerce
from formflow.forms.schema import iter_errors, registry_of, validator_for
from formflow.text import formatting as fmt
from formflow.text.catalogue import _

#: The key of the stage form's values inside a stored marking.
FORM_KEY = "form"
#: Value types a stage form field may have.
SIMPLE_TYPES = ("string", "number", "integer", "boolean")
#: Keywords a field of a stage form may use.
FIELD_KEYWORDS = frozenset({
    "type", "title", "description", "enum", "x-enum-titles", "format", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "minLength", "maxLength", "pattern", "multipleOf", "x-unit", "x-widget", "default",
    "examples",
})
#: Keywords the fragment itself may use.
FORM_KEYWORDS = frozenset({"type", "title", "description", "required", "properties", "additionalProperties"})


def fragment_problems(fragment: Any) -> list[tuple[str, str]]:
    """(JSON pointer within the fragment, message) for each reason `fragment` is not a usable stage form."""
    if not isinstance(fragment, Mapping):
        return [("", _("A stage form is a JSON Schema object (type: object) with properties."))]
    out: list[tuple[str, str]] = []
    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    for error in translate_all(meta.iter_errors(dict(fragment))):
        out.append((error.pointer, _("Not a valid JSON Schema: %(error)s", error=error.message)))
    if out:
        return out
    if fragment.get("type") != "object":
        out.append(("/type", _("A stage form is a JSON Schema object (type: object) with properties.")))
    for key in sorted(set(fragment) - FORM_KEYWORDS):
        out.append((f"/{key}", _("Keyword %(key)s is not supported in a stage form", key=repr(key))))
    props = fragment.get("properties")
    if not isinstance(props, Mapping) or not props:
        out.append(("/properties", _("A stage form needs at least one field (properties)")))
        props = {}
    for name, field in props.items():
        where = f"/properties/{name}"
        if not isinstance(field, Mapping):
            out.append((where, _("Field %(field)s must be an object", field=repr(name))))
            continue
        if field.get("type") not in SIMPLE_TYPES:
            out.append((f"{where}/type", _("Field %(field)s must have one simple type: %(types)s",
                                           field=repr(name), types=", ".join(SIMPLE_TYPES))))
        if not field.get("title"):
            out.append((f"{where}/title", _("Field %(field)s needs a title", field=repr(name))))
        for key in sorted(set(field) - FIELD_KEYWORDS):
            out.append((f"{where}/{key}", _("Keyword %(key)s is not supported in a stage form", key=repr(key))))
        fmt_name = field.get("format")
        if fmt_name is not None and fmt_name not in FORMATS:
            out.append((f"{where}/format", _("Unknown format %(name)s", name=repr(fmt_name))))
    for i, name in enumerate(fragment.get("required") or []):
        if name not in props:
            out.append((f"/required/{i}", _("Required field %(field)s is not among the properties",
                                            field=repr(name))))
    return out


def _schema(fragment: Mapping[str, Any]) -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "additionalProperties": False,
            **dict(fragment)}


def fields_of(fragment: Mapping[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
    """(name, field schema) of every field, in the order the fragment lists them."""
    props = (fragment or {}).get("properties") or {}
    return [(str(k), dict(v)) for k, v in props.items() if isinstance(v, Mapping)]


def posted_values(fragment: Mapping[str, Any], form: Any, prefix: str = "f.") -> dict[str, Any]:
    """Posted strings `<prefix><field>` → values of the schema's types (blanks left out)."""
    out: dict[str, Any] = {}
    for name, field in fields_of(fragment):
        raw = (form.get(prefix + name) or "").strip()[:2000]
        if raw:
            out[name] = coerce(raw, [str(field.get("type"))])
    return out


def validate_values(fragment: Mapping[str, Any], values: Any) -> list[FieldError]:
    """The problems of `values` (the first of each field), with the citizen form's Chinese messages;
    pointers `/form/<field>`."""
    validator = validator_for(_schema(fragment), registry_of({}))
    first: dict[str, FieldError] = {}  # one problem a field: the first, as the desk shows one
    for e in translate_all(iter_errors(validator, values), FORMAT_MESSAGES):
        first.setdefault(e.pointer, FieldError("/" + FORM_KEY + e.pointer, e.message))
    return list(first.values())


def values_in(marking: Mapping[str, Any] | None) -> dict[str, Any]:
    """The stage form's values stored in a marking (empty when none)."""
    found = (marking or {}).get(FORM_KEY)
    return dict(found) if isinstance(found, Mapping) else {}


def shown_values(fragment: Mapping[str, Any] | None, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(title, formatted value) of every filled field, in the fragment's order."""
    out = []
    for name, field in fields_of(fragment):
        if name in values and values[name] not in (None, ""):
            out.append((str(field.get("title") or name), fmt.shown(values[name], field)))
    return out


def stage_values(session: Session, app_id: int, stages: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Stage id → the values of its latest marking, for every given stage (a `workflow.spec.Stage`) with a form."""
    wanted = {s.id: s.table for s in stages if getattr(s, "form", None) and s.table}
    if not wanted:
        return {}
    rows = session.execute(
        select(ReviewMarking.stage, ReviewMarking.table_id, ReviewMarking.marking)
        .where(ReviewMarking.application_id == app_id, ReviewMarking.stage.in_(sorted(wanted)))
        .order_by(ReviewMarking.id)
    )
    out: dict[str, dict[str, Any]] = {}
    for stage, table_id, marking in rows:
        if wanted.get(stage) == table_id:
            out[stage] = values_in(marking)  # the latest row wins
    return {k: v for k, v in out.items() if v}


def values_of_markings(session: Session, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Marking id → its stage form values (only markings that carry some)."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    rows = session.execute(select(ReviewMarking.id, ReviewMarking.marking).where(ReviewMarking.id.in_(wanted)))
    return {int(i): values_in(m) for i, m in rows if values_in(m)}


__all__ = [
    "FORM_KEY", "SIMPLE_TYPES", "fields_of", "fragment_problems", "posted_values", "shown_values", "stage_values",
    "validate_values", "values_in", "values_of_markings",
]
