"""docs/formats.md stays complete: every key of every meta-schema is named in the section of its file.

A configurator should never need to read a meta-schema. Each property name that a meta-schema in
`schemas/meta/` declares (recursively: nested objects, `items`, `$defs`, conditions…) must appear as
a word in the section of docs/formats.md that documents that file, and every section must be listed
in the contents at the top.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "formats.md"
META = ROOT / "schemas" / "meta"

#: The `## ` heading (its start) of the section documenting each meta-schema's file.
SECTIONS = {
    "pack.schema.json": "pack.yaml",
    "form.schema.json": "form.schema.json",
    "materials.schema.json": "materials.yaml",
    "rules.schema.json": "rules.yaml",
    "table.schema.json": "tables/<table>.yaml",
    "workflow.schema.json": "workflows/<pack>/<matter>.yaml",
    "parameters.schema.json": "seeds/<pack>/parameters.yaml",
    "offices.schema.json": "seeds/<pack>/offices.yaml",
    "calendar.schema.json": "seeds/calendar/<year>.yaml",
    "calendar-overrides.schema.json": "seeds/calendar/<year>.yaml",
    "demo.schema.json": "seeds/<pack>/demo.yaml",
    "elicences.schema.json": "seeds/<pack>/demo.yaml",
    "allocation.schema.json": "allocation.yaml",
    "messages.schema.json": "messages.yaml",
}
#: Names every object may carry, documented once in the conventions at the top of the doc.
EVERYWHERE = frozenset({"note", "source"})

_SUBSCHEMA = ("items", "additionalProperties", "propertyNames", "contains", "not", "if", "then", "else",
              "unevaluatedProperties", "unevaluatedItems", "contentSchema")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_MAPS = ("$defs", "definitions", "patternProperties", "dependentSchemas")


def property_names(schema: Any) -> Iterator[str]:
    """Every property name a (meta-)schema declares, wherever it stands."""
    if isinstance(schema, list):
        for item in schema:
            yield from property_names(item)
        return
    if not isinstance(schema, dict):
        return
    for name, sub in (schema.get("properties") or {}).items():
        yield name
        yield from property_names(sub)
    for key in _SUBSCHEMA:
        yield from property_names(schema.get(key))
    for key in _SUBSCHEMA_LISTS:
        yield from property_names(schema.get(key))
    for key in _SUBSCHEMA_MAPS:
        for sub in (schema.get(key) or {}).values():
            yield from property_names(sub)


def sections(text: str) -> dict[str, str]:
    """`## ` heading → its text (its `###` subsections included)."""
    out: dict[str, str] = {}
    heading = ""
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            out[heading] = ""
        elif heading:
            out[heading] += line + "\n"
    return out


def section_of(meta: str, text: str) -> str:
    found = [body for heading, body in sections(text).items() if heading.startswith(SECTIONS[meta])]
    assert len(found) == 1, f"docs/formats.md has no single section starting '## {SECTIONS[meta]}'"
    return found[0]


def named(name: str, text: str) -> bool:
    return re.search(r"(?<![A-Za-z0-9_$-])" + re.escape(name) + r"(?![A-Za-z0-9_-])", text) is not None


META_FILES = sorted(p.name for p in META.glob("*.schema.json"))


def test_every_meta_schema_has_a_section():
    assert set(META_FILES) - set(SECTIONS) == set(), "add the new meta-schema's section to SECTIONS and the doc"
    assert set(SECTIONS) - set(META_FILES) == set(), "a meta-schema listed here no longer exists"


@pytest.mark.parametrize("meta", META_FILES)
def test_every_key_of_the_meta_schema_is_documented_in_its_section(meta):
    text = DOC.read_text(encoding="utf-8")
    body = section_of(meta, text)
    names = set(property_names(json.loads((META / meta).read_text(encoding="utf-8"))))
    assert names, f"{meta} declares no properties?"
    missing = sorted(n for n in names - EVERYWHERE if not named(n, body))
    assert missing == [], (f"docs/formats.md, section '## {SECTIONS[meta]}…', does not name these keys of "
                           f"schemas/meta/{meta}: {missing}")
    assert all(named(n, text) for n in names & EVERYWHERE)


def test_property_names_are_found_in_nested_places():
    schema = {"properties": {"a": {"properties": {"b": {}}}}, "$defs": {"d": {"items": {"properties": {"c": {}}}}},
              "allOf": [{"if": {"properties": {"e": {}}}}]}
    assert sorted(property_names(schema)) == ["a", "b", "c", "e"]


def test_a_missing_key_is_noticed():
    assert not named("x-widget", "the `x-widgets` keyword")
    assert named("x-widget", "| `x-widget` | text |")
    assert not named("from", "`from_stages`")


def test_every_section_is_in_the_contents():
    text = DOC.read_text(encoding="utf-8")
    contents = text[text.index("**Contents**"):text.index("\n## ")]
    missing = [h for h in re.findall(r"^#{2,3} (.+)$", text, flags=re.M)
               if h.replace("<", "\\<").replace(">", "\\>") not in contents]
    assert missing == [], f"add these sections to the contents at the top of docs/formats.md: {missing}"
