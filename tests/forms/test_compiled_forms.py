"""The compiled form decides and words exactly as the plain form does, on every shipped form.

`CompiledForm` prunes by a static plan and lets jsonschema-rs decide valid/invalid; `FormSchema`
(the reference) builds the whole node tree and asks the Python validator. On a corpus built from the
shipped packs' forms — a valid Meizhou application, then one change at a time (a field removed, a
wrong type, an unknown choice, too long, a broken pattern or format, a yes/no flipped so conditional
fields appear or vanish, a member added or emptied), and every field of every other shipped form
filled in by its type — both must prune to the same data, find the same messages at the same
fields, and the rs verdict must be the Python verdict.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from formflow.applications import checks
from formflow.applications.validation import form_errors
from formflow.forms.compiled import CompiledForm, compiled_form
from formflow.forms.render import FormSchema, get_path, set_path
from formflow.forms.schema import registry_of, validator_for
from formflow.packs.versions import _documents, content_hash

MEIZHOU = ("meizhou-meijiang", "public-rental-housing")
APPLICANT_ID, SPOUSE_ID, CHILD_ID = "441402196001010011", "441402196206010023", "441402201003010019"
MEIZHOU_DATA: dict[str, Any] = {
    "category": {"applicant_category": "low-income", "support_mode": "physical_allocation"},
    "members": {
        "applicant": {"name": "陈志强", "id_number": APPLICANT_ID, "mobile": "13807530001",
                      "marital_status": "married", "hukou_region": "meijiang", "monthly_income": 1200},
        "co_applicants": [
            {"name": "李秀梅", "id_number": SPOUSE_ID, "relation": "spouse", "monthly_income": 800},
            {"name": "陈小明", "id_number": CHILD_ID, "relation": "child", "monthly_income": 0},
        ],
    },
    "housing": {"resides_in_urban_area": True, "owns_property": False, "owned_housing_area_total": 0,
                "property_deals_within_5_years": False, "other_housing_benefits": False},
    "assets": {"deposits": 1000, "securities": 0},
    "materials": {},
}


class _Pinned:
    def __init__(self, bundle: dict[str, Any], key: str) -> None:
        self.versions = {"form": key}
        self.documents = {"form": bundle}


def _bundles(packs) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for pack_id, pack in packs.packs.items():
        for matter_id, matter in pack.matters.items():
            if matter.form is not None:
                out.append((f"{pack_id}/{matter_id}", _documents(packs, pack_id, matter_id)["form"]))
    return out


def _reference(bundle: dict[str, Any]) -> tuple[FormSchema, Any]:
    docs = dict(bundle.get("common") or {}) | {bundle["uri"]: bundle["form"]}
    return FormSchema(bundle), validator_for({"$ref": bundle["uri"]}, registry_of(docs))


def _sample(types: list[str], node) -> Any:
    if node.options:
        return node.options[0][0]
    if "boolean" in types:
        return True
    if "integer" in types or "number" in types:
        return 1
    return "测试"


def _filled(form: FormSchema) -> dict[str, Any]:
    """Every field of the form given a value of its type (maybe invalid: a pattern, a format)."""
    data: dict[str, Any] = {}
    for _round in range(3):  # filling a yes/no may reveal more fields
        for node in form.fields(data):
            if node.kind == "field" and node.widget not in ("file", "hidden") and get_path(data, node.path) is None:
                set_path(data, node.path, _sample(form.type_at(node.path), node))
    return data


def _changes(node, value: Any) -> list[Any]:
    """The wrong (or other) values tried at one field: None means "removed"."""
    if node.kind == "repeat":
        return [None, [{}], [*(value or []), {"relation": "spouse"}]]
    if node.kind in ("object", "item"):
        return [None, {}]
    if isinstance(value, bool):
        return [None, not value, "x1"]
    if isinstance(value, int | float):
        return [None, -5, 1.234, "x1"]
    changes: list[Any] = [None, "字" * 300, 123]
    if node.options:
        changes.append("not-a-choice")
    if node.fmt or isinstance(value, str):
        changes.append("x1")
    return changes


def _mutations(form: FormSchema, data: dict[str, Any]) -> list[dict[str, Any]]:
    """One change at a time to every field of `data`."""
    out = [copy.deepcopy(data), {}]
    for node in form.fields(data):
        if not node.path or node.widget == "file":
            continue
        for change in _changes(node, get_path(data, node.path)):
            doc = copy.deepcopy(data)
            if change is None:
                parent = get_path(doc, node.path[:-1]) if len(node.path) > 1 else doc
                if isinstance(parent, dict):
                    parent.pop(node.path[-1], None)
            else:
                set_path(doc, node.path, change)
            out.append(doc)
    return out


def _corpus(packs) -> list[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    corpus = []
    for name, bundle in _bundles(packs):
        form = FormSchema(bundle)
        base = copy.deepcopy(MEIZHOU_DATA) if name == "/".join(MEIZHOU) else _filled(form)
        corpus.append((name, bundle, _mutations(form, base)))
    return corpus


@pytest.fixture(scope="module")
def corpus(shipped_packs):
    return _corpus(shipped_packs)


@pytest.fixture(scope="module")
def judged(corpus):
    """Each document as the reference judges it: (form, bundle, doc, pruned, Python verdict, messages)."""
    out = []
    for name, bundle, docs in corpus:
        reference, validator = _reference(bundle)
        for doc in docs:
            pruned = reference.prune_hidden(doc)
            out.append((name, bundle, doc, pruned, not list(validator.iter_errors(pruned)),
                        form_errors(reference, validator, doc)))
    return out


def test_the_corpus_covers_every_shipped_form_with_valid_and_invalid_documents(judged, shipped_packs):
    assert {j[0] for j in judged} == {name for name, _b in _bundles(shipped_packs)}
    verdicts = [j[4] for j in judged]
    assert verdicts.count(True) >= 3 and verdicts.count(False) >= 200
    assert verdicts.count(False) == sum(1 for j in judged if j[5])  # invalid = worded, valid = silent


def test_the_valid_meizhou_application_is_valid_on_both_paths(shipped_packs):
    bundle = dict(_bundles(shipped_packs))["/".join(MEIZHOU)]
    compiled = CompiledForm(bundle)
    reference, validator = _reference(bundle)
    assert form_errors(reference, validator, MEIZHOU_DATA) == []
    assert form_errors(compiled, compiled.validator, MEIZHOU_DATA) == []
    broken = copy.deepcopy(MEIZHOU_DATA)
    broken["members"]["applicant"]["mobile"] = "123"
    assert form_errors(compiled, compiled.validator, broken) == form_errors(reference, validator, broken) != []


def _compiled(bundle: dict[str, Any], made: dict[int, CompiledForm]) -> CompiledForm:
    if id(bundle) not in made:
        made[id(bundle)] = CompiledForm(bundle)
    return made[id(bundle)]


def test_pruning_by_the_plan_keeps_and_drops_what_the_node_tree_does(judged):
    made: dict[int, CompiledForm] = {}
    for name, bundle, doc, pruned, _valid, _messages in judged:
        compiled = _compiled(bundle, made)
        assert compiled.prune_hidden(doc) == pruned, (name, doc)
        assert compiled.prune_hidden(doc) == pruned  # the kept result, the same
    assert any(j[3] != j[2] for j in judged)  # conditions did hide fields somewhere


def test_messages_of_the_fast_path_are_exactly_those_of_the_python_path(judged):
    made: dict[int, CompiledForm] = {}
    for name, bundle, doc, pruned, python_valid, messages in judged:
        compiled = _compiled(bundle, made)
        assert compiled.fast is not None and compiled.fast.valid(pruned) is python_valid, (name, doc)
        assert form_errors(compiled, compiled.validator, doc) == messages, (name, doc)
    assert sum(len(j[5]) for j in judged) > 200


def test_a_step_renders_the_same_nodes(corpus):
    def shape(node):
        return [(n.name, n.kind, n.widget, n.title, n.required, n.value, n.options) for n in node.walk()]

    for _name, bundle, docs in corpus:
        compiled, (reference, _v) = CompiledForm(bundle), _reference(bundle)
        for doc in docs[:25]:
            hidden_steps = {p[0] for p in reference.hidden_paths(doc) if len(p) == 1}
            for step in reference.steps():
                if step.id in hidden_steps:
                    continue
                assert shape(compiled.step_node(step.id, doc)[0]) == shape(reference.step_node(step.id, doc)[0])


def test_a_form_is_compiled_once_per_version_and_knows_its_category_and_sources(shipped_packs):
    bundle = dict(_bundles(shipped_packs))["/".join(MEIZHOU)]
    key = content_hash(bundle)
    first = compiled_form(key, bundle)
    assert compiled_form(key, bundle) is first
    assert compiled_form(key + "-other", bundle) is not first
    assert first.category_path == ("category", "applicant_category")
    assert first.sources["members.applicant.id_number"] == "idcard"
    pinned = _Pinned(bundle, key)
    assert checks.form_of(pinned) is first
    assert checks.validation_errors(pinned, MEIZHOU_DATA) == []


def test_the_checklist_is_checked_against_data_pruned_once(shipped_packs):
    bundle = dict(_bundles(shipped_packs))["/".join(MEIZHOU)]
    form = CompiledForm(bundle)
    walks = []
    original = form.hidden_paths

    def counting(data):
        walks.append(1)
        return original(data)

    form.hidden_paths = counting  # type: ignore[method-assign]
    assert form.prune_hidden(MEIZHOU_DATA) == MEIZHOU_DATA
    assert walks == []  # nothing it could lose is there: jsonschema-rs says so, no walk
    hidden = {**MEIZHOU_DATA, "housing": {**MEIZHOU_DATA["housing"], "other_housing_benefits_detail": "x"}}
    for _i in range(3):
        assert "other_housing_benefits_detail" not in form.prune_hidden(hidden)["housing"]
    first = len(walks)
    assert first in (1, 2)  # one pruning of that data (a second round only confirms it is stable)
    form.prune_hidden({**hidden, "assets": {"deposits": 5}})
    assert len(walks) > first  # other data: pruned anew
