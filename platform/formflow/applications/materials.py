"""The material checklist of one application, and its enforcement.

A matter's materials.yaml lists, per applicant category, the material kinds
required and optional, each maybe under a JSON Logic `when`. `checklist`
turns it into the list shown to the citizen; `checklist_schema` turns that
same list into a JSON Schema fragment that submission validates the data
against, so the checklist that is shown is the checklist that is enforced.

Where a kind's data lives in the form: `<upload_path>.<kind>` (a file list),
or the kind's own `field` (an e-licence object, a signature field). Nothing
here names a material: every id, title and path comes from the pack.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from formflow.forms.errors import FieldError, pointer
from formflow.forms.fast import FastCheck, fast_check
from formflow.forms.rules import evaluate
from formflow.text.catalogue import _

#: Prefix of a drawn signature stored in the form data.
SIGNATURE_PREFIX = "data:image/"


@dataclass(frozen=True)
class ChecklistItem:
    """One material of one application's checklist."""

    kind: str
    title: str
    requirement: str
    originals: int
    copies: int
    medium: str
    source: str | None  # e-licence source id (idcard, hukou, …), when fetched from e-licences
    signature: bool  # signed on screen or on paper
    required: bool
    field: str  # dotted path of this kind's data in the form data
    note: str = ""

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.field.split("."))

    @property
    def pointer(self) -> str:
        return pointer(self.path)

    @property
    def message(self) -> str:
        return _("Please upload: %(title)s", title=self.title)


def field_of(materials: Mapping[str, Any], kind: str) -> str:
    """Dotted path of `kind`'s data: its `field`, else `<upload_path>.<kind>`."""
    spec = (materials.get("kinds") or {}).get(kind) or {}
    field = spec.get("field")
    if isinstance(field, str) and field:
        return field
    upload_path = materials.get("upload_path")
    if not isinstance(upload_path, str) or not upload_path:
        raise ValueError(_("materials.yaml has no upload_path, so where material %(kind)s lives in the form is "
                           "unknown", kind=repr(kind)))
    return f"{upload_path}.{kind}"


def _item(materials: Mapping[str, Any], kind: str, required: bool) -> ChecklistItem:
    spec = (materials.get("kinds") or {}).get(kind)
    if not isinstance(spec, Mapping):
        raise KeyError(_("materials.yaml has no material %(kind)s", kind=repr(kind)))
    source = spec.get("source")
    return ChecklistItem(
        kind=kind,
        title=str(spec.get("title") or kind),
        requirement=str(spec.get("requirement") or ""),
        originals=int(spec.get("originals") or 0),
        copies=int(spec.get("copies") or 0),
        medium=str(spec.get("medium") or "electronic"),
        source=str(source) if source else None,
        signature=bool(spec.get("signature")),
        required=required,
        field=field_of(materials, kind),
        note=str(spec.get("note") or ""),
    )


def entries(materials: Mapping[str, Any], category: Mapping[str, Any], listing: str) -> list[Any]:
    """The `required` or `optional` items of a category: the shared `common` ones first, then its own."""
    common = materials.get("common")
    shared = common.get(listing) if isinstance(common, Mapping) else None
    return [*(shared or []), *(category.get(listing) or [])]


def effective_categories(materials: Mapping[str, Any]) -> dict[str, Any]:
    """Every category with the `common` items written into its own lists (duplicates kept once).

    An item is the same as another when it names the same kind with the same `when`; a kind listed
    required and optional stays required (the checklist takes the first place a kind holds).
    """
    out: dict[str, Any] = {}
    for cid, spec in (materials.get("categories") or {}).items():
        if not isinstance(spec, Mapping):
            out[cid] = spec
            continue
        merged = dict(spec)
        for listing in ("required", "optional"):
            listed: list[Any] = []
            for entry in entries(materials, spec, listing):
                if entry not in listed:
                    listed.append(entry)
            if listed:
                merged[listing] = listed
        out[cid] = merged
    return out


def checklist(materials: Mapping[str, Any], category: str | None, variables: Mapping[str, Any]) -> list[ChecklistItem]:
    """The materials of an application of `category`: required ones first, in pack order.

    `variables` is the JSON Logic scope (`RuleSet.variables(data, today)`); an
    item whose `when` does not hold is left off. An unknown or missing category
    gives an empty list (the form's category field reports that).
    """
    spec = (materials.get("categories") or {}).get(category) if category else None
    if not isinstance(spec, Mapping):
        return []
    items: list[ChecklistItem] = []
    seen: set[str] = set()
    for listing, required in (("required", True), ("optional", False)):
        for entry in entries(materials, spec, listing):
            kind = entry if isinstance(entry, str) else entry.get("kind")
            if kind in seen:
                continue
            if isinstance(entry, Mapping) and "when" in entry and not evaluate(entry["when"], dict(variables)):
                continue
            seen.add(kind)
            items.append(_item(materials, kind, required))
    return items


# --- what counts as provided ------------------------------------------------------------


def value_at(data: Any, path: Iterable[str]) -> Any:
    """The value at a dotted path of the form data (list items by index), or None."""
    node = data
    for segment in path:
        if isinstance(node, Mapping):
            node = node.get(segment)
        elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
            node = node[int(segment)]
        else:
            return None
    return node


def _signed(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(SIGNATURE_PREFIX)
    return isinstance(value, list) and len(value) > 0


def provided(item: ChecklistItem, data: Mapping[str, Any]) -> bool:
    """Whether the application's data holds this material.

    Files: a non-empty file list. E-licence: a non-empty object (or files).
    Signature: a drawn signature or a non-empty file list, as the field itself
    or as one of the field's properties.
    """
    value = value_at(data, item.path)
    if item.signature:
        if isinstance(value, Mapping):
            return any(_signed(v) for v in value.values())
        return _signed(value)
    if isinstance(value, list):
        return len(value) > 0
    if isinstance(value, Mapping):
        return len(value) > 0
    if isinstance(value, str):
        return value != ""
    return False


def missing(items: Iterable[ChecklistItem], data: Mapping[str, Any]) -> list[ChecklistItem]:
    """The required items the data does not provide."""
    return [item for item in items if item.required and not provided(item, data)]


# --- the same, as JSON Schema -----------------------------------------------------------

_FILES = {"type": "array", "minItems": 1}
_SIGNED = {"anyOf": [{"type": "string", "pattern": "^data:image/"}, _FILES]}


def _leaf(item: ChecklistItem) -> dict[str, Any]:
    """What the value at the item's field must be for the item to count as provided."""
    if item.signature:
        some_property_signed = {"not": {"additionalProperties": {"not": _SIGNED}}}
        return {"anyOf": [*_SIGNED["anyOf"], {"type": "object", **some_property_signed}]}
    return {
        "anyOf": [
            _FILES,
            {"type": "object", "minProperties": 1},
            {"type": "string", "minLength": 1},
        ]
    }


def _nest(path: tuple[str, ...], leaf: dict[str, Any]) -> dict[str, Any]:
    schema = leaf
    for name in reversed(path):
        schema = {"type": "object", "required": [name], "properties": {name: schema}}
    return schema


def checklist_schema(items: Iterable[ChecklistItem], materials: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A JSON Schema fragment the data must satisfy: every required item provided.

    One `allOf` entry per required item, in checklist order, each marked with
    `x-material` (its kind) and `x-message`; `material_errors` maps errors back.
    `materials` is accepted for symmetry with `checklist` and is not needed.
    """
    del materials
    entries = []
    for item in items:
        if not item.required:
            continue
        entry = _nest(item.path, _leaf(item))
        entry["title"] = item.title
        entry["x-material"] = item.kind
        entry["x-message"] = item.message
        entries.append(entry)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "allOf": entries}


#: Checklist schemas compiled per process (a category's checklist is the same for many applications).
CHECKLISTS_KEPT = 256
_CHECKLISTS: OrderedDict[tuple[Any, ...], tuple[Draft202012Validator, FastCheck | None]] = OrderedDict()
_CHECKLISTS_LOCK = threading.Lock()


def _checklist_validators(required: list[ChecklistItem]) -> tuple[Draft202012Validator, FastCheck | None]:
    """The Python validator (it says which items fail) and the jsonschema-rs check of a checklist, compiled once."""
    key = tuple((item.kind, item.field, item.signature, item.title) for item in required)
    with _CHECKLISTS_LOCK:
        found = _CHECKLISTS.get(key)
        if found is not None:
            _CHECKLISTS.move_to_end(key)
            return found
    schema = checklist_schema(required)
    made = (Draft202012Validator(schema), fast_check(schema, {}, None))
    with _CHECKLISTS_LOCK:
        found = _CHECKLISTS.setdefault(key, made)
        while len(_CHECKLISTS) > CHECKLISTS_KEPT:
            _CHECKLISTS.popitem(last=False)
    return found


def material_errors(items: Iterable[ChecklistItem], data: Mapping[str, Any]) -> list[FieldError]:
    """Validate `data` against `checklist_schema(items)`: one "please upload …" error per missing item, at its field.

    jsonschema-rs decides whether anything is missing; the Python validator says what, only then.
    """
    required = [item for item in items if item.required]
    validator, fast = _checklist_validators(required)
    try:
        if fast is not None and fast.valid(data):
            return []
    except (ValueError, TypeError, OverflowError):
        pass
    failed: dict[int, None] = {}
    for error in validator.iter_errors(data):
        path = list(error.relative_schema_path)
        if len(path) >= 2 and path[0] == "allOf" and isinstance(path[1], int):
            failed.setdefault(path[1])
    return [FieldError(required[i].pointer, required[i].message) for i in sorted(failed)]


__all__ = [
    "ChecklistItem",
    "checklist",
    "checklist_schema",
    "effective_categories",
    "entries",
    "field_of",
    "material_errors",
    "missing",
    "provided",
    "value_at",
]


def file_shas(data: Any) -> set[str]:
    """Every file reference (`{"sha256": …}`) anywhere in an application's data."""
    found: set[str] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("sha256"), str):
                found.add(item["sha256"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
