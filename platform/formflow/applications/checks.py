"""What a draft still lacks: field validation, the material checklist, the eligibility pre-check, computed values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from formflow.applications import materials as materials_mod
from formflow.applications.pinned import category_of, form_of  # noqa: E402
from formflow.applications.validation import _title_at, form_errors  # noqa: F401 (_title_at: usecases.identity)
from formflow.forms.errors import FieldError
from formflow.forms.render import delete_path, set_path
from formflow.packs.versions import Pinned
from formflow.text.catalogue import _

# --------------------------------------------------------------------------- validation


def validation_errors(pinned: Pinned, data: Mapping[str, Any]) -> list[FieldError]:
    """Every problem of the (pruned) data against the pinned form, at the field, named as the form titles it."""
    form = form_of(pinned)
    return form_errors(form, form.validator, data)


def step_errors(pinned: Pinned, data: Mapping[str, Any], step_id: str) -> list[FieldError]:
    """Only the errors of one step (whole data validated: conditions may look across steps)."""
    prefix = "/" + step_id
    return [e for e in validation_errors(pinned, data) if e.pointer == prefix or e.pointer.startswith(prefix + "/")]


def variables(pinned: Pinned, data: Mapping[str, Any], today: date) -> dict[str, Any]:
    return pinned.ruleset.variables(dict(data), today)


def checklist(pinned: Pinned, data: Mapping[str, Any], today: date) -> list[materials_mod.ChecklistItem]:
    return materials_mod.checklist(pinned.materials, category_of(pinned, data), variables(pinned, data, today))


def checklist_errors(pinned: Pinned, data: Mapping[str, Any], today: date) -> list[FieldError]:
    items = checklist(pinned, data, today)
    return materials_mod.material_errors(items, data)


def all_errors(pinned: Pinned, data: Mapping[str, Any], today: date) -> list[FieldError]:
    """Full validation plus the material checklist (what submission enforces)."""
    errors = validation_errors(pinned, data)
    seen = {(e.pointer, e.message) for e in errors}
    for err in checklist_errors(pinned, form_of(pinned).pruned(dict(data)), today):
        if (err.pointer, err.message) not in seen:
            errors.append(err)
    return errors


@dataclass
class Precheck:
    """What the citizen sees before submitting: computed values and the eligibility conditions."""

    computed: list[tuple[str, Any, str]]  # (title, value, unit)
    eligibility: Any  # rules.Eligibility | None
    shown_titles: dict[str, str]  # variable name -> title (for condition values)


def precheck(pinned: Pinned, data: Mapping[str, Any], today: date) -> Precheck:
    rules = pinned.ruleset
    pruned = form_of(pinned).prune_hidden(dict(data))
    values = rules.computed(pruned, today)
    specs = (rules.rules.get("computed") or {})
    computed = [(str(specs[n].get("title") or n), v, str(specs[n].get("unit") or "")) for n, v in values.items()]
    category = category_of(pinned, pruned)
    elig = rules.eligibility(category, pruned, today) if category else None
    titles: dict[str, str] = {f"computed.{n}": str(s.get("title") or n) for n, s in specs.items()}
    params = (pinned.documents.get("parameters") or {}).get("parameters") or {}
    for name, spec in params.items():
        unit = spec.get("unit")
        title = str(spec.get("title") or name)
        titles[f"params.{name}"] = _("%(title)s (%(unit)s)", title=title, unit=unit) if unit else title
    for node in form_of(pinned).fields(pruned):
        if node.path:
            titles.setdefault("data." + node.name, node.title)
    return Precheck(computed, elig, titles)


def apply_computed(pinned: Pinned, data: dict[str, Any], today: date) -> dict[str, Any]:
    """Write the values of `x-computed` fields into the data (they are read-only on screen)."""
    form = form_of(pinned)
    values = pinned.ruleset.computed(form.prune_hidden(data), today)
    for node in form.fields(data):
        if node.computed and node.computed in values:
            value = values[node.computed]
            if value is None:
                delete_path(data, node.path)
            else:
                set_path(data, node.path, value)
    return data
