"""jsonschema-rs without call backs (`forms.fast.ScreenedCheck`) says "valid" only where the check with
call backs (`FastCheck`, the platform's own formats) says so, on the corpora of `test_hA_fast_validation`
and on forms made to put formats where no fixed path leads, under `not`, in an `if` and in array items.
The ID number's shape (a pattern rs checks) and the rest of its check (Python) are the format's check.
"""

from __future__ import annotations

import random
from typing import Any

import jsonschema_rs
import pytest
from tests.perf_behaviour.test_hA_fast_validation import ID_A, ID_B, ODD, VALUES, _bundle, _compare, _corpus, _set

from formflow.forms.compiled import CompiledForm
from formflow.forms.fast import ScreenedCheck, fast_check, format_places, screened_check
from formflow.forms.formats import (
    FORMAT_CHECKER,
    ID_SHAPE,
    NATIVE_FORMATS,
    PROVINCE_CODES,
    SCREENED_FORMATS,
    _check_digit,
    explain_cn_id_card,
    id_card_rest,
)
from formflow.forms.schema import registry_of
from formflow.packs.versions import _documents

URI = "https://formflow.local/schemas/test/screened.json"


@pytest.fixture(scope="module")
def common(shipped_packs) -> dict[str, Any]:
    return dict(_documents(shipped_packs, "meizhou-meijiang", "public-rental-housing")["form"]["common"])


def _agrees(screened: ScreenedCheck, full: Any, docs: list[Any]) -> int:
    """Screened "valid" implies full "valid", its "invalid" full "invalid"; how many documents both call valid."""
    both = 0
    for doc in docs:
        try:
            verdict = full.valid(doc)
        except (ValueError, TypeError, OverflowError):
            continue
        own = screened.verdict(doc)
        assert own is None or own is verdict, doc
        if screened.valid(doc):
            assert verdict, doc
            both += 1
    return both


def _checks(schema: dict[str, Any]) -> tuple[ScreenedCheck | None, Any]:
    registry = registry_of({URI: schema})
    resolver = registry.resolver(base_uri=URI)
    screened = screened_check({"$ref": URI}, {URI: schema}, resolver, FORMAT_CHECKER, NATIVE_FORMATS,
                              SCREENED_FORMATS)
    return screened, fast_check({"$ref": URI}, {URI: schema}, FORMAT_CHECKER, native=NATIVE_FORMATS)


def test_the_id_shape_and_the_rest_are_the_id_check():
    rng = random.Random(21)
    shape = jsonschema_rs.validator_for({"pattern": ID_SHAPE})
    valid = 0
    for _ in range(30000):
        head = rng.choice([*sorted(PROVINCE_CODES), "00", "99"]) + "".join(rng.choice("0123456789") for _ in range(4))
        month, day = (2, 29) if rng.random() < 0.3 else (rng.randint(0, 13), rng.randint(0, 32))
        first17 = f"{head}{rng.randint(1880, 2120):04d}{month:02d}{day:02d}{rng.randint(0, 999):03d}"
        number = first17 + (_check_digit(first17) if rng.random() < 0.7 else rng.choice("0123456789Xx\uff11"))
        if rng.random() < 0.05:
            number = number.lower()
        if rng.random() < 0.05:
            at = rng.randint(0, 18)
            number = number[:at] + rng.choice("\uff10\u0661 x\n") + number[at:]
        expected = explain_cn_id_card(number) is None
        assert (shape.is_valid(number) and id_card_rest([number])) is expected, number
        valid += expected
    assert valid >= 3000 and id_card_rest([None, 5, ["x"]])


def test_the_corpus_form_and_the_meizhou_form(common, shipped_packs):
    bundle = _documents(shipped_packs, "meizhou-meijiang", "public-rental-housing")["form"]
    meizhou = CompiledForm(bundle)
    assert meizhou._valid_as_is_screened is not None and meizhou._fast_screened is not None
    base = {"category": {"applicant_category": "low-income", "support_mode": "physical_allocation"},
            "members": {"applicant": {"name": "A", "id_number": ID_B, "mobile": "13807530001",
                                      "marital_status": "married", "hukou_region": "meijiang",
                                      "monthly_income": 1200},
                        "co_applicants": [{"name": "B", "id_number": ID_A, "relation": "spouse",
                                           "monthly_income": 800}]},
            "housing": {"resides_in_urban_area": True, "owns_property": False, "owned_housing_area_total": 0,
                        "property_deals_within_5_years": False, "other_housing_benefits": False},
            "assets": {"deposits": 1000, "securities": 0}, "materials": {}}
    docs = [base]
    for path in [("members", "applicant", "id_number"), ("members", "co_applicants", 0, "id_number"),
                 ("members", "applicant", "mobile"), ("assets", "deposits")]:
        docs += [_set(base, path, v) for v in [*VALUES["cn-id-card"], *VALUES["money"][:5], *ODD]]
    assert _agrees(meizhou._valid_as_is_screened, meizhou._valid_as_is, docs) >= 3
    assert _agrees(meizhou._fast_screened, meizhou.fast, docs) >= 3
    corpus = CompiledForm(_bundle(common))
    for screened, full in [(corpus._valid_as_is_screened, corpus._valid_as_is), (corpus._fast_screened, corpus.fast)]:
        if screened is not None:
            _agrees(screened, full, _corpus())


def test_formats_where_no_fixed_path_leads_or_a_native_one_would_loosen():
    assert format_places({"additionalProperties": {"format": "cn-id-card"}}, registry_of({}).resolver()) is None
    assert _checks({"patternProperties": {"^a": {"format": "cn-id-card"}}})[0] is None
    assert format_places({"items": [{"format": "date"}]}, registry_of({}).resolver()) is None
    assert format_places({"items": [{"type": "string"}], "properties": {"a": {"format": "date"}}},
                         registry_of({}).resolver()) == {"date": {(("a",), True)}}
    assert _checks({"properties": {"a": {"not": {"format": "date"}}}})[0] is None
    assert _checks({"properties": {"a": {"format": "date", "allOf": {"type": "string"}}}})[0] is None
    assert _checks({"if": {"properties": {"a": {"format": "email"}}}, "then": {"required": ["b"]}})[0] is None


def test_id_numbers_in_an_if_under_not_and_in_items():
    schema = {
        "$defs": {"id": {"type": "string", "format": "cn-id-card"}},
        "type": "object",
        "properties": {
            "a": {"$ref": "#/$defs/id"},
            "list": {"type": "array", "items": {"properties": {"n": {"$ref": "#/$defs/id"},
                                                               "d": {"format": "date"}}}},
            "b": {"not": {"format": "cn-id-card"}},
            "c": {"type": "string"},
        },
        "if": {"properties": {"c": {"format": "cn-id-card"}}}, "then": {"required": ["a"]},
        "else": {"properties": {"u": {"oneOf": [{"format": "cn-uscc"}, {"const": ID_A}]}}},
    }
    screened, full = _checks(schema)
    assert screened is not None and full is not None
    bad = ID_A[:-1] + "0"
    values = [ID_A, ID_B, bad, ID_A.lower(), "x", 7, None, "91350100M000100Y43"]
    docs: list[Any] = []
    for a in values:
        for b in values[2:7]:
            for c in values[:4]:
                docs.append({"a": a, "b": b, "c": c, "list": [{"n": a, "d": "2024-02-28"}, {"n": ID_B}]})
                docs.append({"b": b, "c": c, "u": a, "list": [{"n": c, "d": "2023-02-29"}]})
                docs.append({"b": b, "c": a, "u": values[-1], "list": []})
    assert _agrees(screened, full, docs) >= 10
    assert not screened.valid({"a": ID_A, "list": [{"n": bad}]})
    # under `not` the screen only tightens: a number of the right shape there is left to the FastCheck
    assert full.valid({"a": ID_A, "c": ID_A, "b": bad}) and not screened.valid({"a": ID_A, "c": ID_A, "b": bad})


def test_a_schema_reaching_no_format_is_checked_without_the_keyword(shipped_packs):
    bundle = _documents(shipped_packs, "meizhou-meijiang", "public-rental-housing")["form"]
    form = CompiledForm(bundle)
    assert form._unpruned is not None and "keywords" not in form._unpruned._options
    assert form.fast is not None and "keywords" in form.fast._options


def test_the_corpus_form_with_its_formats_where_rs_alone_may_judge(common):
    """The corpus form, its `if` testing a value instead of a format: the screened checks are built and
    both paths word every document of the corpus the same (`test_hA_fast_validation._compare`)."""
    bundle = _bundle(common)
    bundle["form"]["properties"]["money"]["if"] = {"properties": {"checked": {"const": "2024-01-01"}},
                                                   "required": ["checked"]}
    form = CompiledForm(bundle)
    assert form._valid_as_is_screened is not None and form._fast_screened is not None
    docs = _corpus()
    shortcuts, invalid, pruned_some = _compare(bundle, docs)
    assert shortcuts >= 50 and invalid >= 300 and pruned_some >= 50, (shortcuts, invalid, pruned_some)
    # an amount with decimals is left to the FastCheck (the native `money` takes integers and strings)
    whole = [{**d, "money": {**d["money"], "income": 1200}} if isinstance(d.get("money"), dict)
             and d["money"].get("income") == 1200.5 else d for d in docs]
    assert _compare(bundle, whole)[0] >= 50
    assert _agrees(form._valid_as_is_screened, form._valid_as_is, docs + whole) >= 20
    assert _agrees(form._fast_screened, form.fast, [form.pruned(d) for d in docs + whole]) >= 20


def test_a_form_nested_deeper_than_python_compiles_falls_back_to_the_check_with_call_backs():
    schema: dict[str, Any] = {"type": "string", "format": "cn-id-card"}
    for _ in range(30):  # 30 lists in lists: more nested loops than Python compiles in one function
        schema = {"type": "array", "items": schema}
    screened, full = _checks(schema)
    assert screened is None
    good: Any = "11010519491231002X"
    bad: Any = "110105194912310021"  # wrong check digit
    for _ in range(30):
        good, bad = [good], [bad]
    assert full.valid(good) is True and full.valid(bad) is False  # the check with call backs decides
