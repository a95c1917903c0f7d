"""`formflow check` on lottery stages: on_win / on_lose exist, no actions of their own, entrants' size known."""

from __future__ import annotations

from ls_support import WORKFLOW, with_lottery_stage


def _problems(edited, change=None):
    def edit(content: dict) -> None:
        with_lottery_stage(content)
        if change:
            change(content["stages"])
    edited.edit(WORKFLOW, edit)
    return edited.load(ok=False).problems


def test_the_test_pack_with_a_lottery_stage_checks_clean(edited):
    assert _problems(edited) == []


def test_check_catches_a_bad_on_win(edited):
    problems = _problems(edited, lambda st: st["lottery"].update(on_win="alocated"))
    found = [p for p in problems if p.pointer == "/stages/lottery/on_win"]
    assert found, problems
    assert "alocated" in found[0].message and "allocated" in found[0].message  # did you mean
    assert found[0].file == WORKFLOW
    # the typo is reported once: the stage behind it is not called unreachable too
    assert not [p for p in problems if p.pointer == "/stages/allocated"]


def test_check_catches_a_missing_on_lose(edited):
    problems = _problems(edited, lambda st: st["lottery"].pop("on_lose"))
    assert any("on_lose" in p.message for p in problems), problems


def test_a_lottery_stage_has_no_actions_of_its_own(edited):
    problems = _problems(edited, lambda st: st["lottery"].update(
        actions={"skip": {"title": "跳过抽签", "to": "allocated"}}, table="decision"))
    pointers = {p.pointer for p in problems}
    assert {"/stages/lottery/actions", "/stages/lottery/table"} <= pointers, problems
    assert any("抽签环节只由抽签结果流转" in p.message for p in problems)


def test_on_win_on_another_kind_of_stage_is_refused(edited):
    problems = _problems(edited, lambda st: st["allocated"].update(on_win="approved"))
    found = [p for p in problems if p.pointer == "/stages/allocated/on_win"]
    assert found and "kind: lottery" in found[0].message


def test_an_unknown_variable_in_the_entrant_fields_is_refused(edited):
    problems = _problems(edited, lambda st: st["lottery"]["entrant"].update(size={"var": "computed.famly_size"}))
    assert any(p.pointer.startswith("/stages/lottery/entrant/size") for p in problems), problems


def test_formflow_check_fails_on_a_bad_on_win(edited):
    from click.testing import CliRunner

    from formflow.cli import main

    _problems(edited, lambda st: st["lottery"].update(on_win="alocated"))
    result = CliRunner().invoke(main, ["check", str(edited.root)])
    assert result.exit_code != 0
    assert "/stages/lottery/on_win" in result.output and "alocated" in result.output


def test_the_flow_chart_draws_both_outcomes_of_the_draw(edited):
    from formflow.packs.problems import load_yaml
    from formflow.workflow.diagram import workflow_svg

    edited.edit(WORKFLOW, with_lottery_stage)
    svg = workflow_svg(load_yaml((edited.root / WORKFLOW).read_text(encoding="utf-8")))
    assert "抽签配租 —抽签配租：抽中房源→ 签订租赁合同" in svg
    assert "抽签配租 —抽签配租：未抽中→ 继续轮候" in svg
