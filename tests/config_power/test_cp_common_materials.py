"""`common` materials: listed once, applied to every category (before its own), deduplicated, checked."""

from __future__ import annotations

import pytest

from formflow.applications.materials import checklist, effective_categories
from formflow.packs import load_packs
from formflow.usecases.viewing.pinned import citizen_catalogue

MATERIALS = "schemas/meizhou-meijiang/public-rental-housing/materials.yaml"
MARRIED = {"data": {"members": {"applicant": {"marital_status": "married"}}}}
SINGLE = {"data": {"members": {"applicant": {"marital_status": "unmarried"}}}}
SHARED = ["application_form", "id_card", "household_register", "marriage_certificate", "family_planning_certificate"]
OPTIONAL = ["disability_certificate", "serious_illness_certificate"]
#: The Meizhou checklists (kind, required) of a married applicant as they were before `common` was used.
BEFORE = {
    "low-income-subsistence": [*[(k, True) for k in SHARED], ("subsistence_certificate", True),
                               *[(k, False) for k in OPTIONAL]],
    "low-income": [*[(k, True) for k in SHARED], *[(k, False) for k in OPTIONAL]],
    "lower-middle-income": [*[(k, True) for k in SHARED], *[(k, False) for k in OPTIONAL]],
    "migrant-worker": [*[(k, True) for k in SHARED], ("labour_contract", True),
                       ("social_insurance_certificate", True)],
    "new-employee": [*[(k, True) for k in SHARED], ("labour_contract", True), ("social_insurance_certificate", True),
                     ("education_certificate", True)],
}


@pytest.fixture(scope="module")
def meizhou(config_root):
    packs = load_packs(config_root, only=["meizhou-meijiang"])
    assert not packs.problems, packs.problems
    return packs.packs["meizhou-meijiang"].matters["public-rental-housing"].materials.content


def test_the_shipped_pack_lists_the_shared_materials_once(meizhou):
    assert [e if isinstance(e, str) else e["kind"] for e in meizhou["common"]["required"]] == SHARED
    for spec in meizhou["categories"].values():
        assert not set(SHARED) & {e if isinstance(e, str) else e["kind"] for e in spec.get("required") or []}


@pytest.mark.parametrize("category", sorted(BEFORE))
def test_every_category_keeps_its_checklist(meizhou, category):
    assert [(i.kind, i.required) for i in checklist(meizhou, category, MARRIED)] == BEFORE[category]
    single = [(k, r) for k, r in BEFORE[category] if k != "marriage_certificate"]  # `when` still applies
    assert [(i.kind, i.required) for i in checklist(meizhou, category, SINGLE)] == single


def test_the_citizen_catalogue_shows_each_category_with_the_common_items(meizhou):
    catalogue = citizen_catalogue(meizhou)
    assert "common" not in catalogue
    required = catalogue["categories"]["new-employee"]["required"]
    assert [e if isinstance(e, str) else e["kind"] for e in required][:5] == SHARED
    assert effective_categories(meizhou)["low-income"]["optional"] == OPTIONAL


def test_a_common_item_is_required_in_every_category_and_listed_once(edited):
    def change(content: dict) -> None:
        content["common"]["required"].append("disability_certificate")
        content["categories"]["new-employee"]["required"].append("id_card")  # repeated: kept once
    edited.edit(MATERIALS, change)
    materials = edited.load().packs["meizhou-meijiang"].matters["public-rental-housing"].materials.content
    for category in BEFORE:
        items = checklist(materials, category, MARRIED)
        kinds = [i.kind for i in items]
        assert len(kinds) == len(set(kinds)), category
        assert next(i for i in items if i.kind == "disability_certificate").required, category


def test_check_refuses_an_unknown_common_material(edited):
    edited.edit(MATERIALS, lambda c: c["common"]["required"].append("no_such_material"))
    problems = load_packs(edited.root, only=["meizhou-meijiang"]).problems
    found = [p for p in problems if p.pointer == "/common/required/5"]
    assert found and "no_such_material" in found[0].message, problems


def test_check_refuses_a_bad_common_condition(edited):
    edited.edit(MATERIALS, lambda c: c["common"]["required"].append(
        {"kind": "disability_certificate", "when": {"==": [{"var": "data.no.such.field"}, 1]}}))
    problems = load_packs(edited.root, only=["meizhou-meijiang"]).problems
    assert [p for p in problems if p.pointer.startswith("/common/required/5/when")], problems
