"""Every shipped pack file is valid against its meta-schema, and the packs cross-check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from formflow.packs import load_packs

ROOT = Path(__file__).resolve().parents[2]
PACK_FILES = sorted(
    str(p.relative_to(ROOT))
    for folder in ("schemas", "workflows", "seeds")
    for p in (ROOT / folder).rglob("*")
    if p.suffix in (".yaml", ".json") and "meta" not in p.parts
)


@pytest.fixture(scope="module")
def packset():
    return load_packs(ROOT)


def test_there_are_two_shipped_packs(packset):
    assert {"meizhou-meijiang", "jiangxi"} <= set(packset.packs)


@pytest.mark.parametrize("relpath", PACK_FILES)
def test_pack_file_is_valid(packset, relpath):
    problems = [str(p) for p in packset.problems if p.file == relpath]
    assert problems == []


def test_every_pack_file_was_read(packset):
    """A file in the tree that the loader never looks at is a configurator's mistake."""
    read = {d.rel for pack in packset.packs.values() for d in _docs(pack)} | {d.rel for d in packset.calendars}
    read |= {f"schemas/common/{uri.rsplit('/', 1)[-1]}" for uri in packset.common}
    assert sorted(set(PACK_FILES) - read) == []


def _docs(pack):
    yield pack.manifest
    for doc in (pack.parameters, pack.offices, pack.calendar, pack.demo, pack.elicences):
        if doc is not None:
            yield doc
    for matter in pack.matters.values():
        for doc in (matter.form, matter.workflow, matter.materials, matter.rules, matter.allocation, matter.messages,
                    *matter.tables.values()):
            if doc is not None:
                yield doc


@pytest.mark.parametrize("path", sorted((ROOT / "schemas" / "meta").glob("*.json")), ids=lambda p: p.name)
def test_meta_schema_is_a_valid_schema(path):
    Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_no_problems_at_all(packset):
    assert [str(p) for p in packset.problems] == []
