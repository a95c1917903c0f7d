"""The form data as a person reads it: every value formatted by its node of the PINNED form.

`value_of` turns a rendered node into a `Value` tree (enum titles, yes/no,
money, masked ID and mobile numbers; a drawn signature is an image, never its
`data:` text; files with how a page may preview them); `data_steps` gives the
form's steps with their values and the e-licence nodes among them;
`masked_data` masks ID and mobile numbers in raw data read by staff.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from formflow.applications import drafts as apps
from formflow.applications import materials as materials_mod
from formflow.forms.render import FormSchema, Node, get_path, split_path
from formflow.packs.versions import Pinned
from formflow.text import formatting as fmt
from formflow.text.catalogue import _

PREVIEW_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
PREVIEW_PDF = "application/pdf"
_ID_LIKE = re.compile(r"^\d{17}[\dXx]$")
_MOBILE_LIKE = re.compile(r"^1\d{10}$")


@dataclass(frozen=True)
class FileRef:
    """A file referenced by a value of the form, with how a page may preview it."""

    sha256: str
    name: str
    media_type: str
    preview: str | None  # "image" | "pdf" | None

    @property
    def short(self) -> str:
        return self.sha256[:16]


@dataclass(frozen=True)
class Value:
    """One node of the form data as a person reads it (a field, a group, a repeated list, files)."""

    id: str  # the node's id (`f-members-applicant-name`)
    path: str  # dotted data path
    title: str
    kind: str  # field | group | repeat | files | signature
    text: str  # the formatted value ("" for groups, lists and files)
    empty: bool
    source: str | None = None  # e-licence source
    computed: bool = False
    image: str | None = None  # a drawn signature's data URL
    files: tuple[FileRef, ...] = ()
    children: tuple[Value, ...] = ()


@dataclass(frozen=True)
class DataStep:
    id: str
    title: str
    values: tuple[Value, ...]


def file_refs(value: Any) -> tuple[FileRef, ...]:
    out = []
    for ref in value if isinstance(value, list) else []:
        if isinstance(ref, Mapping) and isinstance(ref.get("sha256"), str):
            media = str(ref.get("media_type") or "")
            preview = "image" if media in PREVIEW_IMAGES else "pdf" if media == PREVIEW_PDF else None
            out.append(FileRef(ref["sha256"], str(ref.get("name") or ""), media, preview))
    return tuple(out)


def node_schema(node: Node) -> dict[str, Any]:
    """What `formatting.shown` needs to know of a rendered node (its schema, as the pinned form said)."""
    schema: dict[str, Any] = {}
    if node.options:
        schema["enum"] = [v for v, _t in node.options]
        schema["x-enum-titles"] = [t for _v, t in node.options]
    if node.fmt:
        schema["format"] = node.fmt
    elif node.path and node.path[-1] == "id_number":
        schema["format"] = "cn-id-card"
    elif node.widget == "mobile":
        schema["format"] = "cn-mobile"
    if node.widget:
        schema["x-widget"] = node.widget
    if node.unit:
        schema["x-unit"] = node.unit
    return schema


def schema_at(form: FormSchema, path: Sequence[Any]) -> dict[str, Any]:
    """The keywords that apply at a data path of the form (fragments merged, nearest first)."""
    merged: dict[str, Any] = {}
    try:
        frags = form.schema_at(tuple(path))
    except Exception:  # noqa: BLE001 - an unknown path is formatted without a schema
        return merged
    for frag in frags:
        for key, value in (frag.schema or {}).items():
            merged.setdefault(key, value)
    return merged


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def value_of(node: Node) -> Value:
    """A rendered node → the formatted value tree."""
    common: dict[str, Any] = dict(id=node.id, path=node.name, title=str(node.title), source=node.source,
                                  computed=bool(node.computed))
    if node.widget == "file":
        refs = file_refs(node.value)
        return Value(kind="files", text="", empty=not refs, files=refs, **common)
    if node.kind in ("object", "item"):
        return Value(kind="group", text="", empty=is_empty(node.value),
                     children=tuple(value_of(c) for c in node.children), **common)
    if node.kind == "repeat":
        return Value(kind="repeat", text="", empty=not node.children,
                     children=tuple(value_of(c) for c in node.children), **common)
    image = fmt.signature_image(node.value)
    if image is not None or node.widget == "signature":
        return Value(kind="signature", text=_("Signed") if image else fmt.shown(node.value),
                     empty=is_empty(node.value), image=image, **common)
    return Value(kind="field", text="" if is_empty(node.value) else fmt.shown(node.value, node_schema(node)),
                 empty=is_empty(node.value), **common)


def hidden_materials(pinned: Pinned, data: Mapping[str, Any], items: Sequence[materials_mod.ChecklistItem]) -> set[str]:
    """Upload fields of material kinds NOT on this application's checklist (and holding nothing)."""
    upload_path = (pinned.materials or {}).get("upload_path")
    listed = {i.field for i in items}
    hide: set[str] = set()
    if upload_path:
        for kind in (pinned.materials.get("kinds") or {}):
            dotted = f"{upload_path}.{kind}"
            if dotted not in listed and not get_path(dict(data), split_path(dotted)):
                hide.add(dotted)
    return hide


def data_steps(pinned: Pinned, data: dict[str, Any], items: Sequence[materials_mod.ChecklistItem]
               ) -> tuple[list[DataStep], list[Node]]:
    """The form's steps with their values, and every e-licence node (x-source) among them."""
    form = apps.form_of(pinned)
    hide = hidden_materials(pinned, data, items)
    steps: list[DataStep] = []
    sourced: list[Node] = []
    for step in form.steps():
        try:
            node, _hidden = form.step_node(step.id, data, hide=hide)
        except KeyError:
            continue
        sourced.extend(n for n in node.walk() if n.source)
        steps.append(DataStep(step.id, str(step.title), tuple(value_of(c) for c in node.children)))
    return steps, sourced


def masked_data(data: Any) -> Any:
    """A copy of the form data with every ID and mobile number masked (for staff reading it as data)."""
    if isinstance(data, dict):
        return {k: masked_data(v) for k, v in data.items()}
    if isinstance(data, list):
        return [masked_data(v) for v in data]
    if isinstance(data, str):
        if _ID_LIKE.match(data):
            return fmt.mask_id(data)
        if _MOBILE_LIKE.match(data):
            return fmt.mask_mobile(data)
    return data
