"""Pack loading with jsonschema-rs deciding: a broken file is reported exactly as the Python validator words it.

The loader compiles one validator per meta kind per process and lets jsonschema-rs say whether a file
is valid; only a file it rejects is walked by the Python validator, whose errors are the problems. So
what a configurator reads must be what the Python validator alone would say, file by file.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema_specifications import REGISTRY
from referencing import Resource
from referencing.jsonschema import DRAFT202012

from formflow.forms.errors import translate
from formflow.forms.schema import meta_uri
from formflow.packs.loader import META_KINDS, load_packs
from formflow.packs.problems import PackYamlLoader, load_yaml

PACK, MATTER = "meizhou-meijiang", "public-rental-housing"


def _python_problems(root: Path, rel: str, kind: str) -> set[tuple[str, str]]:
    """(pointer, message) of every error the plain Python validator finds in one file."""
    meta = {k: json.loads((root / "schemas" / "meta" / f"{k}.schema.json").read_text()) for k in META_KINDS}
    registry = REGISTRY.with_resources(
        [(meta_uri(k), Resource.from_contents(d, default_specification=DRAFT202012)) for k, d in meta.items()])
    validator = Draft202012Validator(meta[kind], registry=registry, format_checker=FormatChecker())
    content = load_yaml((root / rel).read_text(encoding="utf-8"))
    return {(fe.pointer, fe.message) for fe in map(translate, validator.iter_errors(content))}


def test_a_broken_workflow_and_table_are_worded_as_the_python_validator_words_them(config_copy: Path):
    workflow = f"workflows/{PACK}/{MATTER}.yaml"
    wf = load_yaml((config_copy / workflow).read_text(encoding="utf-8"))
    stage = next(iter(wf["stages"]))
    wf["stages"][stage]["kind"] = "no-such-kind"
    wf["stages"][stage]["unknown_key"] = 1
    (config_copy / workflow).write_text(yaml.safe_dump(wf, allow_unicode=True), encoding="utf-8")
    table_path = next((config_copy / "schemas" / PACK / MATTER / "tables").glob("*.yaml"))
    table = load_yaml(table_path.read_text(encoding="utf-8"))
    table["rows"] = "not a list"
    table_path.write_text(yaml.safe_dump(table, allow_unicode=True), encoding="utf-8")

    problems = load_packs(config_copy).problems
    table_rel = str(table_path.relative_to(config_copy))
    for rel, kind in ((workflow, "workflow"), (table_rel, "table")):
        expected = _python_problems(config_copy, rel, kind)
        assert expected  # positive control: the file is broken
        got = {(p.pointer, p.message) for p in problems if p.file == rel}
        assert expected <= got, (rel, expected - got)


def test_the_shipped_packs_load_without_problems_and_a_broken_common_file_is_reported(config_copy: Path):
    assert load_packs(config_copy).problems == []
    types = config_copy / "schemas" / "common" / "types.json"
    doc = json.loads(types.read_text())
    first = next(iter(doc["$defs"]))
    doc["$defs"][first]["type"] = 5
    types.write_text(json.dumps(doc, ensure_ascii=False))
    problems = [p for p in load_packs(config_copy).problems if p.file == "schemas/common/types.json"]
    assert problems and all(p.pointer.startswith(f"/$defs/{first}") for p in problems)


def test_yaml_is_parsed_by_libyaml_with_yaml_1_2_booleans():
    assert PackYamlLoader.__mro__[1] is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    assert load_yaml("no: 1\nmedium: no\nok: true\n") == {"no": 1, "medium": "no", "ok": True}
