"""What staff weigh beside the data: this application's materials checklist and its pre-check.

`checklist` lists the materials of THIS application (its category and
conditions) each with its state; `precheck_view` is the eligibility pre-check
with every value formatted by its schema node, unit or parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from formflow.applications import drafts as apps
from formflow.applications import materials as materials_mod
from formflow.forms.render import split_path
from formflow.packs.versions import Pinned
from formflow.text import formatting as fmt
from formflow.text.catalogue import _
from formflow.usecases.viewing.values import FileRef, file_refs, schema_at


@dataclass(frozen=True)
class ChecklistRow:
    """One material of THIS application's checklist, with its state."""

    kind: str
    title: str
    requirement: str
    required: bool
    provided: bool
    state: str  # uploaded | missing | obtained | not_obtained | signed | unsigned
    state_title: str
    requirement_title: str  # required / optional
    files: tuple[FileRef, ...] = ()


@dataclass(frozen=True)
class ConditionView:
    id: str
    title: str
    holds: bool | None
    verdict: str
    shown: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PrecheckView:
    computed: tuple[tuple[str, str], ...]  # (title, formatted value)
    title: str | None  # the category's eligibility title
    eligible: bool | None
    conditions: tuple[ConditionView, ...]


def _state(item: materials_mod.ChecklistItem, provided: bool, value: Any) -> tuple[str, str]:
    if provided and isinstance(value, list):
        return "uploaded", _("Uploaded")
    if item.signature:
        return ("signed", _("Signed")) if provided else ("unsigned", _("Not signed"))
    if item.source:
        return ("obtained", _("Obtained")) if provided else ("not_obtained", _("Not obtained"))
    return ("uploaded", _("Uploaded")) if provided else ("missing", _("Not uploaded"))


def checklist(pinned: Pinned, data: dict[str, Any], today: date) -> list[ChecklistRow]:
    """This application's checklist (its category and conditions), each item with its state."""
    try:
        items = apps.checklist(pinned, data, today)
        pruned = apps.form_of(pinned).prune_hidden(dict(data))
    except Exception:  # noqa: BLE001 - rules over a broken draft must not hide the file
        return []
    rows = []
    for item in items:
        provided = materials_mod.provided(item, pruned)
        state, title = _state(item, provided, materials_mod.value_at(pruned, item.path))
        rows.append(ChecklistRow(
            kind=item.kind, title=item.title, requirement=item.requirement, required=item.required,
            provided=provided, state=state, state_title=title,
            requirement_title=_("Must be submitted") if item.required else _("Optional"),
            files=file_refs(materials_mod.value_at(data, item.path)),
        ))
    return rows


def _verdict(holds: bool | None) -> str:
    if holds is None:
        return _("Cannot tell")
    return _("Met") if holds else _("Not met")


def precheck_view(pinned: Pinned, data: dict[str, Any], today: date) -> PrecheckView | None:
    """The eligibility pre-check with every value formatted by its schema node, unit or parameter."""
    try:
        pre = apps.precheck(pinned, data, today)
    except Exception:  # noqa: BLE001 - rules of a broken draft must not hide the page
        return None
    form = apps.form_of(pinned)
    specs = pinned.ruleset.rules.get("computed") or {}
    params = (pinned.documents.get("parameters") or {}).get("parameters") or {}

    def title(name: str) -> str:
        kind, _dot, rest = name.partition(".")
        if kind == "params" and rest in params:
            return str(params[rest].get("title") or rest)
        return str(pre.shown_titles.get(name, name))

    def text(name: str, value: Any) -> str:
        kind, _dot, rest = name.partition(".")
        if kind == "computed":
            return fmt.with_unit(value, (specs.get(rest) or {}).get("unit"))
        if kind == "params":
            return fmt.with_unit(value, (params.get(rest) or {}).get("unit"))
        if kind == "data":
            return fmt.shown(value, schema_at(form, split_path(rest)))
        return fmt.shown(value)

    computed = tuple((str(t), fmt.with_unit(v, u)) for t, v, u in pre.computed)
    elig = pre.eligibility
    if elig is None:
        return PrecheckView(computed, None, None, ())
    conditions = tuple(ConditionView(c.id, str(c.title), c.holds, _verdict(c.holds),
                                     tuple((title(n), text(n, v)) for n, v in c.shown.items()))
                       for c in elig.conditions)
    return PrecheckView(computed, str(elig.title), elig.eligible, conditions)
