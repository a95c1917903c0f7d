"""The checklist per category of both shipped packs, and its enforcement as JSON Schema.

Every material id, category and condition is read from the pack files, never
guessed: the tests follow the packs as they change.
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from formflow.applications.materials import (
    ChecklistItem,
    checklist,
    checklist_schema,
    effective_categories,
    material_errors,
    missing,
    provided,
    value_at,
)
from formflow.forms.rules import RuleSet
from formflow.forms.schema import registry_of, validator_for
from formflow.integrations.elicence import DemoElicenceProvider
from formflow.packs import load_packs

TODAY = date(2025, 3, 1)
MATTER = "public-rental-housing"
PACKS = ("meizhou-meijiang", "jiangxi")
FILE = {"sha256": "a" * 64, "name": "scan.jpg", "media_type": "image/jpeg", "size": 1234}
SIGNATURE = "data:image/png;base64,iVBORw0KGgo="


@pytest.fixture(scope="module")
def packset(config_root: Path):
    packs = load_packs(config_root)
    assert not packs.problems, packs.problems
    return packs


def _matter(packset, pack_id: str):
    return packset.packs[pack_id].matters[MATTER]


def _materials(packset, pack_id: str) -> dict[str, Any]:
    return _matter(packset, pack_id).materials.content


def _variables(packset, pack_id: str, data: dict[str, Any]) -> dict[str, Any]:
    matter = _matter(packset, pack_id)
    rules = RuleSet(matter.rules.content if matter.rules else {}, packset.packs[pack_id].parameters.content)
    return rules.variables(data, TODAY)


def _put(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    node = data
    *parents, last = dotted.split(".")
    for name in parents:
        node = node.setdefault(name, {})
    node[last] = value
    return data


def _conditions(materials: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """(category, kind, variable, value) of every `when: {"==": [{"var": …}, value]}` item."""
    found = []
    for cat, spec in effective_categories(materials).items():  # `common` items included
        for entry in spec.get("required") or []:
            if isinstance(entry, dict) and "when" in entry:
                (op, (var, value)), = entry["when"].items()
                assert op == "==" and "var" in var, "this test understands only == conditions"
                found.append((cat, entry["kind"], var["var"], value))
    return found


def _unconditional(spec: dict[str, Any], listing: str) -> list[str]:
    return [e for e in spec.get(listing) or [] if isinstance(e, str)]


@pytest.mark.parametrize("pack_id", PACKS)
def test_every_category_lists_its_unconditional_materials(packset, pack_id: str) -> None:
    materials = _materials(packset, pack_id)
    for cat, spec in effective_categories(materials).items():  # the `common` items written into each
        items = checklist(materials, cat, _variables(packset, pack_id, {}))
        required = [i.kind for i in items if i.required]
        optional = [i.kind for i in items if not i.required]
        assert required == _unconditional(spec, "required"), cat
        assert optional == _unconditional(spec, "optional"), cat
        for item in items:
            kind = materials["kinds"][item.kind]
            assert item.title == kind["title"]
            assert item.source == kind.get("source")
            assert item.signature == bool(kind.get("signature"))
            assert item.field == kind.get("field", f"{materials['upload_path']}.{item.kind}")


@pytest.mark.parametrize("pack_id", PACKS)
def test_no_category_gives_no_checklist(packset, pack_id: str) -> None:
    materials = _materials(packset, pack_id)
    assert checklist(materials, None, {}) == []
    assert checklist(materials, "no-such-category", {}) == []


@pytest.mark.parametrize("pack_id", PACKS)
def test_married_applicant_needs_the_conditional_material_unmarried_does_not(packset, pack_id: str) -> None:
    materials = _materials(packset, pack_id)
    conditions = _conditions(materials)
    assert conditions, "both packs require a material only when the applicant is married"
    for cat, kind, var, value in conditions:
        field = var.removeprefix("data.")
        married = _put({}, field, value)
        unmarried = _put({}, field, f"not-{value}")
        yes = checklist(materials, cat, _variables(packset, pack_id, married))
        no = checklist(materials, cat, _variables(packset, pack_id, unmarried))
        assert kind in [i.kind for i in yes if i.required], (cat, kind)
        assert kind not in [i.kind for i in no], (cat, kind)


@pytest.mark.parametrize("pack_id", PACKS)
def test_subsistence_category_alone_requires_the_subsistence_certificate(packset, pack_id: str) -> None:
    """000 第五步 / 004 表1: the 低保 category (by title in the pack) needs the 低保证 (by title)."""
    materials = _materials(packset, pack_id)
    kinds = [k for k, spec in materials["kinds"].items() if "低保" in spec["title"]]
    assert len(kinds) == 1
    for cat, spec in materials["categories"].items():
        required = [i.kind for i in checklist(materials, cat, _variables(packset, pack_id, {})) if i.required]
        assert (kinds[0] in required) == ("低保" in spec["title"]), cat


# --- provided / missing / schema -----------------------------------------------------------


def _complete(items: list[ChecklistItem], form_field, elicences: DemoElicenceProvider) -> dict[str, Any]:
    """Data providing every item, each value shaped as the form's field (e-licences from the demo records)."""
    data: dict[str, Any] = {}
    for item in items:
        schema = form_field(item.field)
        if schema.get("type") == "object" and item.signature:
            value: Any = {"signing_method": "handwritten", "signature": SIGNATURE}
        elif schema.get("type") == "object":
            value = next(filter(None, (elicences.fetch(item.source, n) for n in elicences.id_numbers)))
        else:
            value = [dict(FILE)]
        _put(data, item.field, value)
    return data


def _form_field(packset, pack_id: str):
    """Look a dotted path up in the pack's form (following properties only, enough for materials)."""
    form = _matter(packset, pack_id).form.content

    def lookup(dotted: str) -> dict[str, Any]:
        node = form
        for name in dotted.split("."):
            node = node["properties"][name]
        return node

    return lookup


def _all_items(packset, pack_id: str, cat: str) -> list[ChecklistItem]:
    materials = _materials(packset, pack_id)
    everything: dict[str, Any] = {}
    for _, _, var, value in _conditions(materials):
        _put(everything, var.removeprefix("data."), value)
    return checklist(materials, cat, _variables(packset, pack_id, everything))


@pytest.mark.parametrize("pack_id", PACKS)
def test_schema_errors_point_at_each_missing_material(packset, pack_id: str) -> None:
    materials = _materials(packset, pack_id)
    for cat in materials["categories"]:
        items = _all_items(packset, pack_id, cat)
        schema = checklist_schema(items, materials)
        Draft202012Validator.check_schema(schema)
        errors = material_errors(items, {})
        required = [i for i in items if i.required]
        assert [(e.pointer, e.message) for e in errors] == [(i.pointer, f"请上传：{i.title}") for i in required]
        for item in required:
            expected = "/" + materials["kinds"][item.kind].get(
                "field", f"{materials['upload_path']}.{item.kind}"
            ).replace(".", "/")
            assert item.pointer == expected


@pytest.mark.parametrize("pack_id", PACKS)
def test_complete_data_passes_and_each_removal_is_reported_at_its_field(packset, pack_id: str) -> None:
    materials = _materials(packset, pack_id)
    form_field = _form_field(packset, pack_id)
    for cat in materials["categories"]:
        items = _all_items(packset, pack_id, cat)
        data = _complete(items, form_field, DemoElicenceProvider.from_packset(packset))
        assert missing(items, data) == []
        assert material_errors(items, data) == []
        for item in [i for i in items if i.required]:
            broken = copy.deepcopy(data)
            parent = value_at(broken, item.path[:-1])
            for emptied in ([], None, {}):
                parent[item.path[-1]] = emptied
                assert missing(items, broken) == [item]
                errors = material_errors(items, broken)
                assert [(e.pointer, e.message) for e in errors] == [(item.pointer, item.message)]
            del parent[item.path[-1]]
            assert [e.pointer for e in material_errors(items, broken)] == [item.pointer]


@pytest.mark.parametrize("pack_id", PACKS)
def test_provided_values_are_valid_form_data(packset, pack_id: str) -> None:
    """What counts as provided has the shape the form accepts at that field."""
    matter = _matter(packset, pack_id)
    documents = packset.common | {matter.form_uri: matter.form.content}
    validator = validator_for({"$ref": matter.form_uri}, registry_of(documents))
    materials = _materials(packset, pack_id)
    form_field = _form_field(packset, pack_id)
    for cat in materials["categories"]:
        items = _all_items(packset, pack_id, cat)
        data = _complete(items, form_field, DemoElicenceProvider.from_packset(packset))
        for error in validator.iter_errors(data):
            at = ".".join(map(str, error.absolute_path))
            assert not any(at.startswith(i.field) for i in items), (at, error.message)


def test_signature_needs_a_drawing_or_a_scan_not_only_a_method(packset) -> None:
    items = [i for cat in _materials(packset, "jiangxi")["categories"] for i in _all_items(packset, "jiangxi", cat)]
    item = next(i for i in items if i.signature)
    cases = {
        "method only": ({"signing_method": "handwritten"}, False),
        "drawn": ({"signing_method": "handwritten", "signature": SIGNATURE}, True),
        "scanned": ({"signing_method": "scanned", "signed_scan": [FILE]}, True),
        "empty scan": ({"signing_method": "scanned", "signed_scan": []}, False),
        "not an image": ({"signing_method": "handwritten", "signature": "hello"}, False),
    }
    for name, (value, expected) in cases.items():
        data = _put({}, item.field, value)
        assert provided(item, data) is expected, name
        assert (material_errors([item], data) == []) is expected, name
