"""What "override by id" means per file kind, and the problems a child pack is told of (on a copy)."""

from __future__ import annotations

from pathlib import Path

import yaml

from formflow.packs import load_packs
from formflow.packs.inherit import ADDED, INHERITED, OVERRIDDEN, merge, merge_parameters

JX, NC, MATTER = "jiangxi", "jiangxi-nanchang", "public-rental-housing"


def _write(path: Path, content) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _status(pack, matter: str, kind: str, id_: str) -> str:
    found = [e.status for e in pack.inheritance.entries if (e.matter, e.kind, e.id) == (matter, kind, id_)]
    assert len(found) == 1, (matter, kind, id_, found)
    return found[0]


def test_objects_merge_by_key_lists_of_ids_by_id_other_lists_are_replaced():
    parent = {"stages": {"a": {"title": "甲", "time_limit": {"days": 5, "unit": "working"}, "to": ["b", "c"]}},
              "channels": [{"id": "web", "title": "网上"}, {"id": "hall", "title": "窗口"}]}
    child = {"stages": {"a": {"time_limit": {"days": 3}, "to": ["b"]}},
             "channels": [{"id": "hall", "title": "市民中心窗口"}, {"id": "app", "title": "小程序"}]}
    out = merge(parent, child)
    assert out["stages"]["a"] == {"title": "甲", "time_limit": {"days": 3, "unit": "working"}, "to": ["b"]}
    assert out["channels"] == [{"id": "web", "title": "网上"}, {"id": "hall", "title": "市民中心窗口"},
                               {"id": "app", "title": "小程序"}]
    assert parent["stages"]["a"]["time_limit"]["days"] == 5  # the parent's content is never changed


def test_category_lists_merge_by_material_kind_and_parameters_are_replaced_whole():
    parent = {"required": ["id_card", {"kind": "marriage", "when": {"var": "x"}}], "optional": ["disability"]}
    child = {"required": [{"kind": "marriage", "when": {"var": "y"}}, "residence"]}
    assert merge(parent, child) == {"required": ["id_card", {"kind": "marriage", "when": {"var": "y"}}, "residence"],
                                    "optional": ["disability"]}
    params = merge_parameters({"parameters": {"a": {"title": "甲", "value": 1, "example": True}}},
                              {"parameters": {"a": {"title": "甲", "value": 2}, "b": {"title": "乙", "value": 3}}})
    assert params["parameters"] == {"a": {"title": "甲", "value": 2}, "b": {"title": "乙", "value": 3}}


def test_a_stage_time_limit_a_message_a_table_and_a_parameter_of_the_child(config_copy):
    base = config_copy
    _write(base / "workflows" / NC / f"{MATTER}.yaml", {"stages": {"acceptance": {"time_limit": {"days": 3}}}})
    _write(base / "schemas" / NC / MATTER / "messages.yaml",
           {"kinds": {"accepted": {"title": "南昌市：申请已受理"}}})
    table = yaml.safe_load((base / "schemas" / JX / MATTER / "tables" / "review.yaml").read_text(encoding="utf-8"))
    table["title"] = "南昌市审核量化表"
    _write(base / "schemas" / NC / MATTER / "tables" / "review.yaml", table)
    params = yaml.safe_load((base / "seeds" / NC / "parameters.yaml").read_text(encoding="utf-8"))
    params["parameters"]["nanchang_extra"] = {"title": "南昌市示例参数", "value": 1, "unit": "年", "example": True}
    _write(base / "seeds" / NC / "parameters.yaml", params)

    packs = load_packs(base)
    assert not packs.problems, packs.problems
    jx, nc = packs.packs[JX].matters[MATTER], packs.packs[NC].matters[MATTER]
    assert nc.workflow.content["stages"]["acceptance"]["time_limit"] == {**jx.workflow.content["stages"][
        "acceptance"]["time_limit"], "days": 3}
    assert nc.messages.content["kinds"]["accepted"]["title"] == "南昌市：申请已受理"
    assert nc.messages.content["kinds"]["accepted"]["body"] == jx.messages.content["kinds"]["accepted"]["body"]
    assert nc.tables["review"].content["title"] == "南昌市审核量化表"
    assert nc.tables["acceptance"] is jx.tables["acceptance"]
    child = packs.packs[NC]
    assert _status(child, MATTER, "workflow", "stages.acceptance") == OVERRIDDEN
    assert _status(child, MATTER, "workflow", "stages.county_review") == INHERITED
    assert _status(child, MATTER, "messages", "kinds.accepted") == OVERRIDDEN
    assert _status(child, MATTER, "table", "review") == OVERRIDDEN
    assert _status(child, MATTER, "table", "acceptance") == INHERITED
    assert _status(child, "", "parameters", "nanchang_extra") == ADDED


def test_the_child_overlay_is_checked_after_merging_naming_the_childs_file(config_copy):
    _write(config_copy / "schemas" / NC / MATTER / "materials.yaml",
           {"kinds": {"city_card": {"requirement": "示例"}, "id_card": {"copies": "一份"}}})
    problems = [str(p) for p in load_packs(config_copy).problems]
    mine = [p for p in problems if p.startswith(f"schemas/{NC}/{MATTER}/materials.yaml")]
    assert any("/kinds/city_card" in p for p in mine), problems  # a new kind needs its title etc.
    assert any("/kinds/id_card/copies" in p for p in mine), problems
    assert all(p.startswith(f"schemas/{NC}/") for p in problems), problems  # the parent is not blamed


def test_offices_of_their_own_and_a_region_outside_the_parent_are_refused(config_copy):
    (config_copy / "seeds" / NC / "offices.yaml").write_text(
        (config_copy / "seeds" / JX / "offices.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    manifest = config_copy / "schemas" / NC / "pack.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('region_code: "360100"',
                                                                     'region_code: "441402"'), encoding="utf-8")
    problems = [str(p) for p in load_packs(config_copy).problems]
    assert any(p.startswith(f"seeds/{NC}/offices.yaml") and "共用机构" in p for p in problems), problems
    assert any(p.startswith(f"schemas/{NC}/pack.yaml:/region_code") and "'441402'" in p and "机构树" in p
               for p in problems), problems
    assert not any("重复" in p for p in problems), problems  # never 18 duplicate offices


def test_an_unknown_parent_is_named(config_copy):
    manifest = config_copy / "schemas" / NC / "pack.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("extends: jiangxi", "extends: jiangxii"),
                        encoding="utf-8")
    packs = load_packs(config_copy)
    assert NC not in packs.packs
    assert [str(p) for p in packs.problems] == [
        f"schemas/{NC}/pack.yaml:/extends: extends 'jiangxii'：没有这个地方配置包"]


def test_checking_the_child_alone_checks_it_over_its_parent(config_root):
    packs = load_packs(config_root, [NC])
    assert not packs.problems and set(packs.packs) == {JX, NC}
