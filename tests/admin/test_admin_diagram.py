"""The workflow diagram: well-formed, complete, escaped, layered, deterministic."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

import pytest

from formflow.packs.problems import load_yaml
from formflow.workflow.diagram import period_text, workflow_svg, wrap

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"
WORKFLOWS = sorted(ROOT.glob("workflows/*/*.yaml"))


@lru_cache(maxsize=1)
def _effective():
    from formflow.packs import load_packs

    return load_packs(ROOT)


def load(path: Path) -> dict:
    """A shipped workflow as the loader holds it: `{param: id}` day counts read from its pack's parameters, and a
    child pack's overlay drawn as its effective workflow."""
    from formflow.workflow.spec import resolve_param_days

    pack = _effective().packs.get(path.parent.name)
    if pack is not None and pack.inheritance is not None:
        return copy.deepcopy(pack.matters[path.stem].workflow.content)
    content = load_yaml(path.read_text(encoding="utf-8"))
    parameters = ROOT / "seeds" / path.parent.name / "parameters.yaml"
    resolve_param_days(content, load_yaml(parameters.read_text(encoding="utf-8")))
    return content


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def all_text(root: ET.Element) -> str:
    return "\n".join("".join(el.itertext()) for el in root.iter(f"{SVG}text"))


def stages(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-stage"): g for g in root.iter(f"{SVG}g") if g.get("data-stage")}


def y_of(root: ET.Element, stage: str) -> float:
    return float(stages(root)[stage].get("data-y"))


def x_of(root: ET.Element, stage: str) -> float:
    return float(stages(root)[stage].get("data-x"))


def test_both_shipped_workflows_are_found():
    assert len(WORKFLOWS) >= 2


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.parent.name)
def test_shipped_workflow_diagram_is_complete(path):
    workflow = load(path)
    svg = workflow_svg(workflow)
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    text = all_text(root)
    # every stage drawn, with its title
    assert set(stages(root)) == set(workflow["stages"])
    for stage in workflow["stages"].values():
        joined = text.replace("\n", "")
        assert stage["title"] in joined, stage["title"]
        for action in (stage.get("actions") or {}).values():
            assert action["title"] in joined, action["title"]
    # the commitment caption, when the workflow promises an overall time limit
    commitment = workflow.get("commitment")
    caption = [el for el in root.iter(f"{SVG}text") if el.get("class") == "commitment"]
    if commitment:
        assert caption and commitment["title"] in caption[0].text and period_text(commitment) in caption[0].text
    else:
        assert not caption
    # end stages present, rounded, coloured by result
    for sid, stage in workflow["stages"].items():
        if stage.get("kind") == "end":
            group = stages(root)[sid]
            assert group.get("data-result") == stage["result"]
            rect = group.find(f"{SVG}rect")
            assert float(rect.get("rx")) >= 10
    colours = {
        stages(root)[sid].get("data-result"): stages(root)[sid].find(f"{SVG}rect").get("stroke")
        for sid, s in workflow["stages"].items() if s.get("kind") == "end"
    }  # fmt: skip
    if {"approved", "rejected", "not_accepted", "withdrawn"} <= set(colours):
        assert colours["approved"] != colours["rejected"] == colours["not_accepted"] != colours["withdrawn"]
    # citizen actions in the legend, not as arrows
    for cid, action in (workflow.get("citizen") or {}).items():
        assert action["title"] in text
        assert not [g for g in root.iter(f"{SVG}g") if g.get("class", "").startswith("edge")
                    and g.get("data-action") == cid]  # fmt: skip
    # no script, no external references, presentation attributes only
    assert "<script" not in svg and "<style" not in svg and "style=" not in svg
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert float(root.get("width")) <= 1250


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.parent.name)
def test_layers_follow_the_flow(path):
    workflow = load(path)
    root = parse(workflow_svg(workflow))
    start = workflow["start"]
    for sid, stage in workflow["stages"].items():
        for action in (stage.get("actions") or {}).values():
            to = action.get("to")
            for target in [to] if isinstance(to, str) else to or []:
                assert y_of(root, sid) < y_of(root, target), (sid, target)
    for sid in workflow["stages"]:
        if sid != start:
            assert y_of(root, start) < y_of(root, sid)
    ends = [sid for sid, s in workflow["stages"].items() if s.get("kind") == "end"]
    bottom = max(y_of(root, sid) for sid in workflow["stages"])
    assert all(y_of(root, sid) == bottom for sid in ends)
    assert all(y_of(root, sid) < bottom for sid in workflow["stages"] if sid not in ends)


def test_the_meizhou_chain_is_one_column_in_seed_order():
    workflow = load(ROOT / "workflows" / "meizhou-meijiang" / "public-rental-housing.yaml")
    root = parse(workflow_svg(workflow))
    chain = [sid for sid, s in workflow["stages"].items() if s.get("kind") != "end"]
    ys = [y_of(root, sid) for sid in chain]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)
    assert len({x_of(root, sid) for sid in chain}) == 1
    # the timer stage has its own shape and shows its duration; its expiry arrow is dashed
    timer = stages(root)["public_notice"]
    assert timer.find(f"{SVG}polygon") is not None
    assert "20日" in "".join(timer.itertext())
    expiry = [g for g in root.iter(f"{SVG}g") if g.get("data-action") == "on_expiry"]
    assert expiry and expiry[0].find(f"{SVG}polyline").get("stroke-dasharray")
    assert "3个工作日" in "".join(stages(root)["community_acceptance"].itertext())
    assert "社区级" in "".join(stages(root)["community_acceptance"].itertext())


def parallel_workflow() -> dict:
    return {
        "id": "demo",
        "title": "并行示例",
        "roles": {"clerk": {"title": "受理人员"}, "a": {"title": "甲"}, "b": {"title": "乙"}},
        "start": "intake",
        "commitment": {"title": "承诺办理时限", "days": 20, "unit": "working", "starts_on": "accept"},
        "stages": {
            "intake": {
                "title": "受理",
                "owner": {"role": "clerk", "level": "street"},
                "actions": {
                    "accept": {"title": "受理", "to": ["check_a", "check_b"]},
                    "reject": {"title": "不予受理", "to": "refused", "reason": "required"},
                },
            },
            "check_a": {"title": "核查甲", "owner": {"role": "a", "level": "district"},
                        "actions": {"done": {"title": "核查完成", "to": "decide"}}},
            "check_b": {"title": "核查乙", "owner": {"role": "b", "level": "district"},
                        "actions": {"done": {"title": "核查完成", "to": "decide"}}},
            "decide": {
                "title": "决定",
                "join": ["check_a", "check_b"],
                "owner": {"role": "clerk", "level": "city"},
                "actions": {"approve": {"title": "批准", "to": "ok"}, "reject": {"title": "不批准", "to": "no"}},
            },
            "ok": {"title": "通过", "kind": "end", "result": "approved"},
            "no": {"title": "不通过", "kind": "end", "result": "rejected"},
            "refused": {"title": "不予受理", "kind": "end", "result": "not_accepted"},
        },
    }  # fmt: skip


def test_parallel_branches_share_a_layer_side_by_side():
    root = parse(workflow_svg(parallel_workflow()))
    assert y_of(root, "check_a") == y_of(root, "check_b")
    assert x_of(root, "check_a") < x_of(root, "check_b")  # in the order the fork lists them
    assert y_of(root, "intake") < y_of(root, "check_a") < y_of(root, "decide") < y_of(root, "ok")
    layers = {sid: int(g.get("data-layer")) for sid, g in stages(root).items()}
    assert layers["check_a"] == layers["check_b"] == layers["intake"] + 1
    assert layers["decide"] == layers["check_a"] + 1
    assert root.find(f".//{SVG}g[@data-join='decide']") is not None  # the join bar


def test_configuration_text_is_escaped():
    workflow = parallel_workflow()
    workflow["title"] = "流程 <script>alert(1)</script> & 测试"
    workflow["stages"]["intake"]["title"] = '受理 <script>alert("x")</script> & "引号"'
    workflow["stages"]["intake"]["actions"]["accept"]["title"] = "受理 & <b>加粗</b>"
    workflow["roles"]["clerk"]["title"] = "人员 <img src=x onerror=alert(1)>"
    workflow["stages"]["check_a"]["title"] = "控制字符\x01\x0b保留文字"
    svg = workflow_svg(workflow)
    root = parse(svg)  # well-formed despite everything
    tags = {el.tag for el in root.iter()}
    assert f"{SVG}script" not in tags and "script" not in tags and f"{SVG}img" not in tags
    text = all_text(root).replace("\n", "")
    assert "<script>" in text and "& " in text and "<b>加粗</b>" in text
    assert "&lt;script&gt;" in svg
    assert "控制字符保留文字" in text


def test_hostile_ids_are_escaped_in_attributes():
    workflow = parallel_workflow()
    stage = workflow["stages"].pop("check_b")
    workflow["stages"]['b"><script>x</script>'] = stage
    workflow["stages"]["intake"]["actions"]["accept"]["to"] = ["check_a", 'b"><script>x</script>']
    root = parse(workflow_svg(workflow))
    assert 'b"><script>x</script>' in stages(root)


def test_output_is_deterministic():
    workflow = load(ROOT / "workflows" / "meizhou-meijiang" / "public-rental-housing.yaml")
    assert workflow_svg(workflow) == workflow_svg(copy.deepcopy(workflow))


def test_corrections_are_loops_and_cycles_do_not_break_layering():
    workflow = parallel_workflow()
    workflow["stages"]["decide"]["actions"]["send_back"] = {"title": "退回重新核查", "to": "check_a"}
    workflow["stages"]["intake"]["actions"]["fix"] = {"title": "材料补正", "correction": True}
    root = parse(workflow_svg(workflow))
    assert y_of(root, "intake") < y_of(root, "check_a") < y_of(root, "decide")
    assert stages(root)["intake"].find(f"{SVG}path[@class='loop']") is not None
    back = root.find(f".//{SVG}g[@data-action='send_back']")
    assert back is not None and back.get("data-to") == "check_a"


def test_broken_or_empty_workflows_still_draw():
    parse(workflow_svg({}))
    parse(workflow_svg({"stages": {"a": None, "b": {"actions": {"x": {"to": "nowhere"}}}}, "start": "zzz"}))
    parse(workflow_svg({"stages": {"a": {"kind": "timer", "on_expiry": "a"}}}))


def test_roles_argument_adds_titles():
    workflow = parallel_workflow()
    workflow["stages"]["intake"]["owner"]["role"] = "window_clerk"
    root = parse(workflow_svg(workflow, roles={"window_clerk": "窗口工作人员"}))
    assert "窗口工作人员" in "".join(stages(root)["intake"].itertext())


def test_wrap_balances_lines_and_keeps_the_suffix_whole():
    lines = wrap("一二三四五六七八九十一二三四五六七八九", 15, 200)
    assert len(lines) == 2 and abs(len(lines[0]) - len(lines[1])) <= 1
    lines = wrap("一二三四五六七八九十一二三", 12, 150, " · 区县级")
    assert lines[-1].endswith(" · 区县级") or lines[-1] == "· 区县级"
    assert not any(line.startswith("，") for line in wrap("一二三四五六七八九十，一二三", 12, 120))


def test_period_text():
    assert period_text({"days": 3, "unit": "working"}) == "3个工作日"
    assert period_text({"days": 20, "unit": "calendar"}) == "20日"
    assert period_text(None) == ""
