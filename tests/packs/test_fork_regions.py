"""`formflow check` and parallel branches: a way out of the branches leads only to their join or an end stage."""

from __future__ import annotations

import pytest
from test_broken_packs import Files

from formflow.packs import load_packs

JX_WORKFLOW = "workflows/jiangxi/public-rental-housing.yaml"
MZ_WORKFLOW = "workflows/meizhou-meijiang/public-rental-housing.yaml"


def send_back_before_the_fork(f: Files):
    """A branch sends the application back to the stage that forked: the other branch would run on."""
    def change(wf):
        wf["stages"]["housing_check"]["actions"]["send_back"] = {"title": "退回受理", "to": "acceptance"}
    f.edit_yaml(JX_WORKFLOW, change)
    return JX_WORKFLOW, "/stages/housing_check/actions/send_back/to", "'acceptance'"


def jump_past_the_join(f: Files):
    """A branch goes straight on to the public notice, leaving the join waiting."""
    def change(wf):
        wf["stages"]["civil_affairs_check"]["actions"]["report"]["to"] = "public_notice"
    f.edit_yaml(JX_WORKFLOW, change)
    return JX_WORKFLOW, "/stages/civil_affairs_check/actions/report/to", "'public_notice'"


def parallel_meizhou_send_back(f: Files):
    """The Meizhou chain made parallel, with a send-back from one branch to the street review."""
    def change(wf):
        stages = wf["stages"]
        stages["street_forward"]["actions"]["forward"]["to"] = ["civil_affairs_review", "housing_review"]
        stages["civil_affairs_review"]["actions"]["approve"]["to"] = "centre_review"
        stages["centre_review"]["join"] = ["civil_affairs_review", "housing_review"]
        stages["housing_review"]["actions"]["send_back"] = {"title": "退回街道", "to": "street_review"}
    f.edit_yaml(MZ_WORKFLOW, change)
    return MZ_WORKFLOW, "/stages/housing_review/actions/send_back/to", "'street_review'"


@pytest.mark.parametrize("mutate", [send_back_before_the_fork, jump_past_the_join, parallel_meizhou_send_back],
                         ids=lambda m: m.__name__)
def test_a_way_out_of_parallel_branches_is_refused(config_copy, mutate):
    file, pointer, words = mutate(Files(config_copy))
    problems = load_packs(config_copy).problems
    matching = [p for p in problems if p.file == file and p.pointer == pointer and words in p.message
                and "并行分支" in p.message]
    assert matching, f"expected {file}:{pointer} ~ {words!r}; got:\n" + "\n".join(map(str, problems))
    assert len(problems) == 1, problems


def test_ways_inside_the_branches_to_the_join_and_to_end_stages_are_fine(config_copy):
    files = Files(config_copy)

    def change(wf):
        stages = wf["stages"]
        stages["street_forward"]["actions"]["forward"]["to"] = ["civil_affairs_review", "housing_review"]
        stages["civil_affairs_review"]["actions"]["approve"]["to"] = "centre_review"
        stages["centre_review"]["join"] = ["civil_affairs_review", "housing_review"]
        # the join itself may send the application back before the fork: both branches have ended
        stages["centre_review"]["actions"]["send_back"] = {"title": "退回街道", "to": "street_forward"}
    files.edit_yaml(MZ_WORKFLOW, change)
    assert load_packs(config_copy).problems == []


def test_the_shipped_packs_pass(shipped_packs):
    assert shipped_packs.problems == []
