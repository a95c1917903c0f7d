"""`formflow check` on stage forms: a broken fragment is named by file and pointer, in Chinese."""

from __future__ import annotations

import copy

import pytest
import yaml
from sf_support import INCOME_RULE, MZ, STREET_FORM

from formflow.packs import load_packs

WORKFLOW = f"workflows/{MZ}/public-rental-housing.yaml"


def _problems(root, change) -> list:
    path = root / WORKFLOW
    wf = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(wf["stages"])
    path.write_text(yaml.safe_dump(wf, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return [p for p in load_packs(root).problems if p.file == WORKFLOW]


def _with_form(form, **stage_changes):
    def change(stages):
        stages["street_review"]["form"] = form
        stages["street_review"].update(stage_changes)
    return change


def test_the_test_pack_form_passes(config_copy):
    assert _problems(config_copy, _with_form(STREET_FORM)) == []


@pytest.mark.parametrize(("form", "pointer", "words"), [
    ({**STREET_FORM, "properties": {"x": {"type": "array", "title": "清单"}}, "required": []},
     "/stages/street_review/form/properties/x", None),
    ({"type": "object", "properties": {"income": {"type": "number"}}},
     "/stages/street_review/form/properties/income", "title"),
    ({"type": "object", "properties": {"day": {"type": "string", "title": "日期", "format": "day"}}},
     "/stages/street_review/form/properties/day/format", "day"),
    ({"type": "object", "required": ["income"], "properties": {"day": {"type": "string", "title": "日期"}}},
     "/stages/street_review/form/required/0", "income"),
    ({"type": "object", "properties": {"n": {"type": "number", "title": "数", "minimum": "零"}}},
     "/stages/street_review/form", None),
])
def test_a_broken_fragment_is_refused_at_its_place(config_copy, form, pointer, words):
    found = _problems(config_copy, _with_form(form))
    assert found, form
    assert any(p.pointer.startswith(pointer) for p in found), found
    if words:
        assert any(words in p.message for p in found), found


def test_a_stage_form_needs_the_stage_table(config_copy):
    def change(stages):
        stages["street_forward"]["form"] = copy.deepcopy(STREET_FORM)
    found = _problems(config_copy, change)
    assert [p.pointer for p in found] == ["/stages/street_forward/form"]
    assert "table" in found[0].message


def test_a_guard_naming_a_field_no_form_has_is_refused(config_copy):
    def change(stages):
        stages["street_review"]["form"] = STREET_FORM
        stages["street_review"]["actions"]["approve"]["guard"] = {
            "outcome": "pass", "rule": {"<=": [{"var": "stage.street_review.verified_incom"}, 900]}}
        stages["community_acceptance"]["actions"]["accept"]["guard"] = {"outcome": "pass", "rule": INCOME_RULE}
    found = _problems(config_copy, change)
    assert [p.pointer for p in found] == ["/stages/street_review/actions/approve/guard/rule/<=/0/var"]
    assert "verified_incom" in found[0].message and "street_review" in found[0].message
