"""A fork that fires again (after a send-back) starts a new round: its join forgets the earlier arrivals.

The send-back here is a workflow `formflow check` refuses (an action leaving the
parallel branches for a stage before the fork); applications pinned to such a
workflow before the check existed must still never end up at two stages at once.
"""

from __future__ import annotations

from datetime import date

import pytest
from wf_support import JX, Flow

from formflow.packs import load_packs
from formflow.workflow.moves import fork_joins

DAY = date(2026, 3, 2)
WORKFLOW = f"workflows/{JX}/public-rental-housing.yaml"


@pytest.fixture
def send_back(config_copy, wf_sqlite, calendar) -> Flow:
    import yaml

    path = config_copy / WORKFLOW
    wf = yaml.safe_load(path.read_text(encoding="utf-8"))
    wf["stages"]["housing_check"]["actions"]["send_back"] = {"title": "退回受理", "to": "acceptance",
                                                             "reason": "required"}
    path.write_text(yaml.safe_dump(wf, allow_unicode=True, sort_keys=False), encoding="utf-8")
    packs = load_packs(config_copy)
    # `formflow check` refuses it (tests/packs/test_fork_regions.py); nothing else is wrong with it
    assert all(p.pointer == "/stages/housing_check/actions/send_back/to" for p in packs.problems)
    return Flow(wf_sqlite, calendar, packs)


def test_a_fork_fired_again_does_not_join_with_an_arrival_of_the_earlier_round(send_back):
    f = send_back
    app_id = f.create(JX, today=DAY)
    t = f.act(app_id, "acceptance", "accept", "jx-street-clerk", today=DAY, mark=True)
    assert t.stages == ("civil_affairs_check", "housing_check")
    t = f.act(app_id, "civil_affairs_check", "report", "jx-civil-affairs", today=DAY, note="一致")
    assert f.app(app_id).arrived == {"county_review": ["civil_affairs_check"]}
    t = f.act(app_id, "housing_check", "send_back", "jx-housing-reviewer", today=DAY, note="住房材料需重新受理")
    assert t.stages == ("acceptance",)

    t = f.act(app_id, "acceptance", "accept", "jx-street-clerk", today=DAY)  # second round
    assert t.stages == ("civil_affairs_check", "housing_check")
    assert f.app(app_id).arrived == {}  # the first round's arrival no longer counts

    t = f.act(app_id, "housing_check", "report", "jx-housing-reviewer", today=DAY, note="无房")
    assert t.stages == ("civil_affairs_check",)  # before: ("civil_affairs_check", "county_review")
    t = f.act(app_id, "civil_affairs_check", "report", "jx-civil-affairs", today=DAY, note="一致")
    assert t.stages == ("county_review",)
    assert f.app(app_id).arrived == {}


def test_fork_joins_finds_the_join_of_the_fork(shipped_packs):
    from formflow.workflow.spec import parse_workflow

    spec = parse_workflow(shipped_packs.packs[JX].matters["public-rental-housing"].workflow.content)
    assert fork_joins(spec, ("civil_affairs_check", "housing_check")) == {"county_review"}
    assert fork_joins(spec, ("registration", "rejected")) == set()
