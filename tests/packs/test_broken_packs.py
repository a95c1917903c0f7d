"""A corpus of broken packs: each mutation of a shipped pack reports the exact problem.

Mutations are code over a private copy of the shipped configuration, so the
corpus follows the packs as they change.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from formflow.packs import load_packs
from formflow.packs.problems import load_yaml

PACK = "meizhou-meijiang"
MATTER = "public-rental-housing"


class Files:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, rel: str) -> Path:
        return self.root / rel

    def yaml(self, rel: str):
        return load_yaml(self.path(rel).read_text(encoding="utf-8"))

    def put_yaml(self, rel: str, content) -> None:
        self.path(rel).write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def json(self, rel: str):
        return json.loads(self.path(rel).read_text(encoding="utf-8"))

    def put_json(self, rel: str, content) -> None:
        self.path(rel).write_text(json.dumps(content, ensure_ascii=False, indent=2), encoding="utf-8")

    def edit_yaml(self, rel: str, change: Callable) -> None:
        content = self.yaml(rel)
        change(content)
        self.put_yaml(rel, content)

    def edit_json(self, rel: str, change: Callable) -> None:
        content = self.json(rel)
        change(content)
        self.put_json(rel, content)


WORKFLOW = f"workflows/{PACK}/{MATTER}.yaml"
FORM = f"schemas/{PACK}/{MATTER}/form.schema.json"
MATERIALS = f"schemas/{PACK}/{MATTER}/materials.yaml"
RULES = f"schemas/{PACK}/{MATTER}/rules.yaml"
MANIFEST = f"schemas/{PACK}/pack.yaml"
DEMO = f"seeds/{PACK}/demo.yaml"
OFFICES = f"seeds/{PACK}/offices.yaml"


def first_stage_with(workflow: dict, key: str) -> str:
    return next(sid for sid, st in workflow["stages"].items() if key in st)


def first_step(form: dict) -> str:
    return next(iter(form["properties"]))


def stage_table_missing(f: Files):
    wf = f.yaml(WORKFLOW)
    sid = first_stage_with(wf, "table")
    wf["stages"][sid]["table"] = "no-such-table"
    f.put_yaml(WORKFLOW, wf)
    return WORKFLOW, f"/stages/{sid}/table", "'no-such-table'"


def category_unknown_material(f: Files):
    mats = f.yaml(MATERIALS)
    cat = next(iter(mats["categories"]))
    mats["categories"][cat]["required"].append("no-such-material")
    n = len(mats["categories"][cat]["required"]) - 1
    f.put_yaml(MATERIALS, mats)
    return MATERIALS, f"/categories/{cat}/required/{n}", "'no-such-material'"


def ref_unresolvable(f: Files):
    form = f.json(FORM)
    step = first_step(form)
    form["properties"][step]["properties"]["broken"] = {"$ref": "../../common/types.json#/$defs/nope"}
    f.put_json(FORM, form)
    return FORM, f"/properties/{step}/properties/broken/$ref", "无法解析"


def rule_unknown_field(f: Files):
    f.edit_yaml(RULES, lambda r: r.setdefault("computed", {}).update(
        {"broken": {"title": "坏", "logic": {"var": "data.nope.field"}}}))
    return RULES, "/computed/broken/logic/var", "'nope.field'"


def rule_unknown_parameter(f: Files):
    f.edit_yaml(RULES, lambda r: r.setdefault("computed", {}).update(
        {"broken": {"title": "坏", "logic": {"*": [2, {"var": "params.no_such_param"}]}}}))
    return RULES, "/computed/broken/logic/*/1/var", "'no_such_param'"


def stage_without_way_out(f: Files):
    wf = f.yaml(WORKFLOW)
    start = wf["start"]
    owner = wf["stages"][start]["owner"]
    wf["stages"]["dead_end"] = {"title": "死路", "owner": owner, "actions": {}}
    next(iter(wf["stages"][start]["actions"].values()))["to"] = "dead_end"
    f.put_yaml(WORKFLOW, wf)
    return WORKFLOW, "/stages/dead_end", "没有出口"


def stage_unreachable(f: Files):
    wf = f.yaml(WORKFLOW)
    start = wf["start"]
    end = next(sid for sid, st in wf["stages"].items() if st.get("kind") == "end")
    wf["stages"]["orphan"] = {"title": "孤儿", "owner": wf["stages"][start]["owner"],
                              "actions": {"go": {"title": "走", "to": end}}}
    f.put_yaml(WORKFLOW, wf)
    return WORKFLOW, "/stages/orphan", "没有任何动作能到达"


def action_to_unknown_stage(f: Files):
    wf = f.yaml(WORKFLOW)
    start = wf["start"]
    aid = next(iter(wf["stages"][start]["actions"]))
    wf["stages"][start]["actions"][aid]["to"] = "nowhere"
    f.put_yaml(WORKFLOW, wf)
    return WORKFLOW, f"/stages/{start}/actions/{aid}/to", "'nowhere'"


def yaml_syntax_error(f: Files):
    f.path(MATERIALS).write_text("kinds: [unclosed\n", encoding="utf-8")
    return MATERIALS, "", "YAML 语法错误（第 2 行"


def typo_key_in_table(f: Files):
    rel = f"schemas/{PACK}/{MATTER}/tables/acceptance.yaml"
    f.edit_yaml(rel, lambda t: t["rows"][0].update({"critera": ["x"]}))
    return rel, "/rows/0", "critera"


def unknown_ui_keyword(f: Files):
    form = f.json(FORM)
    step = first_step(form)
    form["properties"][step]["x-colour"] = "red"
    f.put_json(FORM, form)
    return FORM, f"/properties/{step}", ""


def unbounded_string(f: Files):
    form = f.json(FORM)
    step = first_step(form)
    form["properties"][step]["properties"]["free_text"] = {"type": "string", "title": "无限"}
    f.put_json(FORM, form)
    return FORM, f"/properties/{step}/properties/free_text", ""


def manifest_id_mismatch(f: Files):
    f.edit_yaml(MANIFEST, lambda m: m.update({"id": "somewhere-else"}))
    return MANIFEST, "/id", "'somewhere-else'"


def demo_unknown_office(f: Files):
    def change(demo):
        grant = next(r for a in demo["accounts"] for r in a["roles"] if r.get("office"))
        grant["office"] = "000000999"
    f.edit_yaml(DEMO, change)
    return DEMO, "/office", "'000000999'"


def duplicate_office(f: Files):
    def change(doc):
        top = doc["offices"][0]
        top.setdefault("children", []).append({"id": top["id"], "name": "重复", "kind": "bureau"})
    f.edit_yaml(OFFICES, change)
    return OFFICES, "/id", "重复"


def missing_form(f: Files):
    f.path(FORM).unlink()
    return FORM, "", "文件不存在"


MUTATIONS = [
    stage_table_missing, category_unknown_material, ref_unresolvable, rule_unknown_field,
    rule_unknown_parameter, stage_without_way_out, stage_unreachable, action_to_unknown_stage,
    yaml_syntax_error, typo_key_in_table, unknown_ui_keyword, unbounded_string,
    manifest_id_mismatch, demo_unknown_office, duplicate_office, missing_form,
]


@pytest.mark.parametrize("mutate", MUTATIONS, ids=lambda m: m.__name__)
def test_broken_pack_reports_the_problem(config_copy, mutate):
    file, pointer, words = mutate(Files(config_copy))
    problems = load_packs(config_copy).problems
    matching = [p for p in problems if p.file == file and pointer in p.pointer and words in p.message]
    assert matching, f"expected {file}:{pointer} ~ {words!r}; got:\n" + "\n".join(map(str, problems))


def test_every_problem_is_reported_not_only_the_first(config_copy):
    files = Files(config_copy)
    expected = [m(files) for m in (stage_table_missing, rule_unknown_parameter, demo_unknown_office)]
    problems = load_packs(config_copy).problems
    for file, pointer, words in expected:
        assert any(p.file == file and pointer in p.pointer and words in p.message for p in problems)


def test_check_command_exit_codes(config_copy):
    cmd = [sys.executable, "-m", "formflow.cli", "check", str(config_copy)]
    good = subprocess.run(cmd, capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    assert f"OK {PACK}" in good.stdout and "OK jiangxi" in good.stdout
    assert "个阶段" in good.stdout

    files = Files(config_copy)
    stage_table_missing(files)
    rule_unknown_parameter(files)
    bad = subprocess.run(cmd, capture_output=True, text=True)
    assert bad.returncode == 2
    assert "no-such-table" in bad.stderr and "no_such_param" in bad.stderr
    assert f"{WORKFLOW}:/stages/" in bad.stderr


def test_check_one_pack_by_folder(config_copy):
    cmd = [sys.executable, "-m", "formflow.cli", "check", str(config_copy / "schemas" / "jiangxi")]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "OK jiangxi" in out.stdout and PACK not in out.stdout
