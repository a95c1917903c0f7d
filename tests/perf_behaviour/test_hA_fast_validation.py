"""The fast validation path words exactly what the full Python path words, on a corpus made for it.

The fast path (`CompiledForm`): one jsonschema-rs call says "nothing to prune, and valid" (formats checked
natively where `formats.NATIVE_FORMATS` has a schema that implies them, by the platform's own check
otherwise), else the plan prunes and rs decides before Python words the errors. The full path
(`FormSchema` and the Python validator) prunes by the node tree and words every error. A form made for
this test carries every platform format (typed and untyped, in `anyOf`, in an `if`), `if`/`then`/`else`
with fields that only a branch declares, `dependentRequired`, `dependentSchemas` and a members array whose
items hold formats and conditions; each document changes one value of a valid one (to valid, invalid and
odd values: trailing newlines, full-width digits, floats, booleans, huge numbers), also while a hidden
field keeps a value. Both paths must give the same error list, the same pruned data, and the shortcut may
only say yes when the full path finds nothing and prunes nothing. The shipped Meizhou form gets the same
comparison with its members.
"""

from __future__ import annotations

import copy
import random
from datetime import date
from decimal import Decimal
from typing import Any

import jsonschema_rs
import pytest

from formflow.applications.validation import form_errors
from formflow.forms.compiled import CompiledForm
from formflow.forms.fast import FORMAT_KEYWORD, _format_keyword
from formflow.forms.formats import (
    FORMAT_CHECKER,
    FORMATS,
    NATIVE_FORMATS,
    PROVINCE_CODES,
    explain_cn_id_card,
    id_card_check_digit,
    is_cn_id_card,
)
from formflow.forms.render import FormSchema
from formflow.forms.schema import form_uri, registry_of, validator_for
from formflow.packs.versions import _documents

TYPES = "../../common/types.json#/$defs/"
ID_A, ID_B = "11010519491231002X", "440524198001010013"


def _ref(name: str, **extra: Any) -> dict[str, Any]:
    return {"$ref": TYPES + name, **extra}


FORM: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "person": {
            "type": "object", "title": "Person",
            "properties": {
                "id_number": _ref("cn-id-card", title="ID of the person"),
                "mobile": _ref("cn-mobile"),
                "uscc": _ref("cn-uscc"),
                "born": _ref("date"),
                "email": {"type": "string", "format": "email", "title": "E-mail"},
                "anything": {"format": "money", "title": "Any amount"},  # untyped: every type reaches it
                "loose_date": {"format": "date"},
                "contact": {"title": "Contact", "anyOf": [{"format": "cn-mobile"}, {"format": "email"}]},
                "has_car": {"type": "boolean", "title": "Has a car"},
                "note": {"type": "string", "maxLength": 5},
                "reference": {"type": "string"},
            },
            "required": ["id_number", "has_car"],
            "if": {"properties": {"has_car": {"const": True}}, "required": ["has_car"]},
            "then": {"properties": {"plate": _ref("cn-plate", title="Plate")}, "required": ["plate"]},
            "else": {"properties": {"why_not": {"type": "string", "title": "Why not", "format": "date"}}},
            "dependentRequired": {"email": ["mobile"]},
            "dependentSchemas": {"reference": {"properties": {"reference_date": _ref("date")},
                                               "required": ["reference_date"]}},
        },
        "money": {
            "type": "object", "title": "Money",
            "properties": {
                "income": _ref("money", title="Income"),
                "area": _ref("area"),
                "checked": {"type": "string", "title": "Checked"},
            },
            "required": ["income"],
            # a condition that tests a format (in validation; pruning's conditions judge formats otherwise
            # in `FormSchema` than in `CompiledForm`, so this one hides nothing)
            "if": {"properties": {"checked": {"format": "date"}}, "required": ["checked"]},
            "then": {"properties": {"income": {"minimum": 100}, "area": {"format": "cn-id-card"}}},
        },
        "members": {
            "type": "object", "title": "Members",
            "properties": {
                "list": {
                    "type": "array", "title": "Member", "x-widget": "repeat",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id_number": _ref("cn-id-card"),
                            "relation": {"enum": ["spouse", "child"], "title": "Relation"},
                            "income": _ref("money"),
                            "works": {"type": "boolean"},
                        },
                        "required": ["id_number", "relation"],
                        "if": {"properties": {"works": {"const": True}}, "required": ["works"]},
                        "then": {"properties": {"employer": _ref("cn-uscc", title="Employer")},
                                 "required": ["employer"]},
                    },
                },
            },
        },
    },
    "required": ["person", "money"],
}

VALID: dict[str, Any] = {
    "person": {"id_number": ID_A, "mobile": "13800000000", "uscc": "91350100M000100Y43", "born": "1990-01-31",
               "email": "a.b@example.com", "anything": 12, "loose_date": "2024-02-29", "contact": "13800000000",
               "has_car": True, "plate": "\u7ca4A12345", "note": "ok"},
    "money": {"income": 1200.5, "area": 80, "checked": "no"},
    "members": {"list": [{"id_number": ID_B, "relation": "spouse", "income": 0},
                         {"id_number": ID_A, "relation": "child", "works": False}]},
}

ODD = ["", "x1", "12\n", "\n12", " 12", "１２", 0, -1, 1.5, 1.005, 12.34, 1.0, -0.0, 1e20, 2 ** 70, True, False,
       None, [], {}]
VALUES: dict[str, list[Any]] = {
    "cn-id-card": [ID_A, ID_A.lower(), ID_B, "440524198001010014", "44052419800101001", "440524198002300013",
                   "990524198001010013", "440524210001010013", "１10105194912310021", ID_B + "\n", 440524198001010013],
    "cn-mobile": ["13800000000", "12800000000", "1380000000", "13800000000\n", "1380000000０", 13800000000],
    "cn-uscc": ["91350100M000100Y43", "91350100M000100Y44", "91350100M000100Y4", "91350100m000100Y43"],
    "cn-plate": ["\u7ca4A12345", "\u7ca4AD12345", "\u7ca4A1234\u5b66", "\u7ca4I12345", "AA12345", "\u7ca4A12345\n"],
    "money": ["12", "12.3", "12.34", "12.345", "012", "1e3", "-1", "1,000", "12."],
    "date": ["2024-02-29", "2023-02-29", "2024-04-31", "2024-12-31", "0000-01-01", "0001-01-01", "2024-1-01",
             "2024-01-01\n", "2024/01/01", "9999-12-31"],
    "email": ["a@b.cn", "a@b", "a b@c.cn", "a@b..cn", "\u674e@\u4f8b\u5b50.cn", "a@b.cn\n", "a@@b.cn"],
}
FIELDS = {
    ("person", "id_number"): "cn-id-card", ("person", "mobile"): "cn-mobile", ("person", "uscc"): "cn-uscc",
    ("person", "born"): "date", ("person", "email"): "email", ("person", "anything"): "money",
    ("person", "loose_date"): "date", ("person", "contact"): "cn-mobile", ("person", "plate"): "cn-plate",
    ("person", "why_not"): "date", ("money", "income"): "money", ("money", "area"): "money",
    ("money", "checked"): "date",
    ("members", "list", 0, "id_number"): "cn-id-card", ("members", "list", 1, "income"): "money",
    ("members", "list", 1, "employer"): "cn-uscc",
}


def _bundle(common: dict[str, Any]) -> dict[str, Any]:
    return {"uri": form_uri("fast-path", "every-format"), "form": copy.deepcopy(FORM), "common": common}


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    node = out
    for part in path[:-1]:
        node = node[part]
    if value is _REMOVED:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return out


_REMOVED = object()


def _corpus() -> list[dict[str, Any]]:
    """The valid document, then one value changed at a time, alone and with the branches flipped."""
    flips = [
        ("person", "has_car", False),  # the plate now hidden, with its value
        ("person", "why_not", "2024-01-01"),  # declared only by the `else` branch: hidden while has_car
        ("person", "reference", "x"),  # dependentSchemas: reference_date now required
        ("money", "checked", "2024-01-01"),  # a date: the `if` with a format holds, income ≥ 100, area an ID
        ("members", "list", 1, "works", True),  # employer required in the second member
        ("members", "list", 0, "employer", "91350100M000100Y43"),  # hidden (works absent), with a value
    ]
    bases = [VALID]
    for *path, value in flips:
        bases.append(_set(VALID, tuple(path), value))
    bases.append(_set(bases[1], ("person", "why_not"), "2024-01-01"))  # else branch shown, filled
    bases.append(_set(bases[4], ("money", "area"), ID_B))
    bases.append(_set(bases[5], ("members", "list", 1, "employer"), "91350100M000100Y43"))
    out = []
    for n, base in enumerate(bases):
        out.append(base)
        for path, fmt in FIELDS.items():
            for value in [*VALUES[fmt], *(ODD if n == 0 else ODD[:3]), _REMOVED]:
                out.append(_set(base, path, value))
    members = VALID["members"]["list"]
    out.append(_set(VALID, ("members", "list"), [*members, *members, {"relation": "child"}]))
    out.append(_set(VALID, ("members", "list"), []))
    out.append(_set(VALID, ("members",), {"list": "not a list"}))
    out.append({})
    return out


@pytest.fixture(scope="module")
def common(shipped_packs) -> dict[str, Any]:
    bundle = _documents(shipped_packs, "meizhou-meijiang", "public-rental-housing")["form"]
    return dict(bundle["common"])


def _reference(bundle: dict[str, Any]) -> tuple[FormSchema, Any]:
    docs = dict(bundle.get("common") or {}) | {bundle["uri"]: bundle["form"]}
    return FormSchema(bundle), validator_for({"$ref": bundle["uri"]}, registry_of(docs))


def _compare(bundle: dict[str, Any], docs: list[dict[str, Any]]) -> tuple[int, int, int]:
    compiled, (reference, validator) = CompiledForm(bundle), _reference(bundle)
    assert compiled.fast is not None and compiled.valid_as_is is not None
    shortcuts = invalid = pruned_some = 0
    for doc in docs:
        expected = form_errors(reference, validator, doc)
        pruned = reference.prune_hidden(doc)
        assert form_errors(compiled, compiled.validator, doc) == expected, doc
        before = copy.deepcopy(doc)
        own = compiled.prune_hidden(doc)
        assert own == pruned and compiled.pruned(doc) == pruned, doc
        assert not _shares_a_container(own, doc)  # `prune_hidden` gives a copy of its own
        assert doc == before  # pruning (which shares what it keeps) never changes the data it is given
        if compiled.valid_as_is(doc):
            assert expected == [] and pruned == doc, doc
            shortcuts += 1
        invalid += bool(expected)
        pruned_some += pruned != doc
    return shortcuts, invalid, pruned_some


def _shares_a_container(a: Any, b: Any) -> bool:
    """Is a dict or list of `a` (or below) the very object of one in `b`?"""
    def containers(value: Any) -> list[int]:
        if isinstance(value, dict):
            return [id(value), *(i for v in value.values() for i in containers(v))]
        if isinstance(value, list):
            return [id(value), *(i for v in value for i in containers(v))]
        return []
    return bool(set(containers(a)) & set(containers(b)))


def test_every_format_branch_and_hidden_value_is_worded_the_same_on_both_paths(common):
    docs = _corpus()
    shortcuts, invalid, pruned_some = _compare(_bundle(common), docs)
    assert shortcuts >= 50 and invalid >= 300 and pruned_some >= 50, (shortcuts, invalid, pruned_some)


def test_the_shipped_meizhou_form_with_members_is_worded_the_same(shipped_packs):
    bundle = _documents(shipped_packs, "meizhou-meijiang", "public-rental-housing")["form"]
    base = {
        "category": {"applicant_category": "low-income", "support_mode": "physical_allocation"},
        "members": {"applicant": {"name": "A", "id_number": ID_B, "mobile": "13807530001",
                                  "marital_status": "married", "hukou_region": "meijiang", "monthly_income": 1200},
                    "co_applicants": [{"name": "B", "id_number": ID_A, "relation": "spouse", "monthly_income": 800},
                                      {"name": "C", "id_number": ID_B, "relation": "child", "monthly_income": 0}]},
        "housing": {"resides_in_urban_area": True, "owns_property": False, "owned_housing_area_total": 0,
                    "property_deals_within_5_years": False, "other_housing_benefits": False},
        "assets": {"deposits": 1000, "securities": 0},
        "materials": {},
    }
    docs = [base, _set(base, ("housing", "other_housing_benefits_detail"), "x"),
            _set(base, ("housing", "other_housing_benefits"), True),
            _set(base, ("members", "applicant", "marital_status"), "single")]
    paths = [("members", "applicant", "id_number"), ("members", "applicant", "mobile"),
             ("members", "co_applicants", 1, "id_number"), ("members", "co_applicants", 0, "monthly_income"),
             ("assets", "deposits"), ("housing", "owned_housing_area_total")]
    for path in paths:
        for value in [*VALUES["cn-id-card"][:6], *VALUES["cn-mobile"][:4], *VALUES["money"][:5], *ODD]:
            docs.append(_set(base, path, value))
    shortcuts, invalid, pruned_some = _compare(bundle, docs)
    assert shortcuts >= 3 and invalid >= 50 and pruned_some >= 1, (shortcuts, invalid, pruned_some)


# --------------------------------------------------------------------------- the native shortcuts, value by value


def _values(rng: random.Random) -> list[Any]:
    alphabet = "0123456789X.-@ab \n" + "\u7ca4\u4eacADFHIOZ\u5b66\uff11"
    out: list[Any] = [*ODD, *(v for vs in VALUES.values() for v in vs)]
    out += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20))) for _ in range(3000)]
    out += [f"{rng.randint(1000, 9999)}-{rng.randint(0, 13):02d}-{rng.randint(0, 32):02d}" for _ in range(3000)]
    out += [f"1{rng.randint(0, 9)}{rng.randint(0, 10 ** 9):09d}" for _ in range(500)]
    out += [rng.choice([1, -1]) * rng.random() * 10 ** rng.randint(0, 6) for _ in range(1000)]
    out += [round(rng.random() * 1000, rng.randint(0, 4)) for _ in range(1000)]
    out += [rng.randint(-5, 10 ** 12) for _ in range(200)] + [Decimal("1.25"), float("inf"), float("nan")]
    return out


def test_a_native_shortcut_lets_through_only_what_the_format_accepts():
    values = _values(random.Random(11))
    for name, schema in NATIVE_FORMATS.items():
        rs = jsonschema_rs.validator_for(schema)
        conforms = FORMAT_CHECKER.checkers[name][0]
        passed = 0
        for value in values:
            try:
                shortcut = rs.is_valid(value)
            except (ValueError, TypeError, OverflowError):
                continue
            if shortcut:
                passed += 1
                assert conforms(value), (name, value)
        assert passed >= 5, name


def test_formats_are_judged_the_same_with_and_without_the_shortcuts():
    values = _values(random.Random(12))
    for name in FORMATS:
        with_native = jsonschema_rs.validator_for({"allOf": [{"anyOf": [NATIVE_FORMATS.get(name, False),
                                                                        {FORMAT_KEYWORD: name}]}]},
                                                  keywords={FORMAT_KEYWORD: _format_keyword(FORMAT_CHECKER)})
        for value in values:
            try:
                verdict = with_native.is_valid(value)
            except (ValueError, TypeError, OverflowError):
                continue
            assert verdict is FORMAT_CHECKER.conforms(value, name), (name, value)


# --------------------------------------------------------------------------- the ID number check


def test_the_id_number_check_is_its_explanation_and_the_weighted_sum():
    rng = random.Random(13)
    weights = [pow(2, 17 - i, 11) for i in range(17)]
    numbers = [ID_A, ID_A.lower(), ID_B]
    for _ in range(4000):
        first17 = rng.choice(sorted(PROVINCE_CODES)) + "".join(rng.choice("0123456789") for _ in range(15))
        if rng.random() < 0.5:
            born = date(rng.randint(1890, 2030), rng.randint(1, 12), rng.randint(1, 28))
            first17 = first17[:6] + born.strftime("%Y%m%d") + first17[14:]
        assert id_card_check_digit(first17) == "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights,
                                                                                               strict=True)) % 11]
        numbers += [first17 + id_card_check_digit(first17), first17 + rng.choice("0123456789Xx"),
                    first17[:16] + "\uff11" + id_card_check_digit(first17), first17]
    for number in numbers:
        assert is_cn_id_card(number) is (explain_cn_id_card(number) is None), number
    assert sum(map(is_cn_id_card, numbers)) >= 1000
