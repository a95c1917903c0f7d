"""Parallel branches: a variant workflow where the two district reviews run side by side."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from wf_support import MZ, Flow, drive

from formflow.packs import load_packs

DAY = date(2026, 3, 2)


@pytest.fixture
def parallel(config_copy, wf_sqlite, calendar) -> Flow:
    path = config_copy / "workflows" / MZ / "public-rental-housing.yaml"
    wf = yaml.safe_load(path.read_text(encoding="utf-8"))
    stages = wf["stages"]
    stages["street_forward"]["actions"]["forward"]["to"] = ["civil_affairs_review", "housing_review"]
    stages["civil_affairs_review"]["actions"]["approve"]["to"] = "centre_review"
    stages["civil_affairs_review"]["time_limit"] = {"days": 10, "unit": "working"}
    stages["housing_review"]["time_limit"] = {"days": 10, "unit": "working"}
    stages["centre_review"]["join"] = ["civil_affairs_review", "housing_review"]
    path.write_text(yaml.safe_dump(wf, allow_unicode=True, sort_keys=False), encoding="utf-8")
    packs = load_packs(config_copy)
    assert not packs.problems, packs.problems
    return Flow(wf_sqlite, calendar, packs)


def test_fork_then_join_when_both_arrive(parallel):
    f = parallel
    app_id = f.create(MZ, today=DAY)
    day = drive(f, app_id, MZ, "street_forward", DAY)
    t = f.act(app_id, "street_forward", "forward", "mj-street", today=day)
    assert t.stages == ("civil_affairs_review", "housing_review")
    assert f.app(app_id).stage == "civil_affairs_review"
    t = f.act(app_id, "housing_review", "approve", "mj-housing", today=day, mark=True)
    assert t.stages == ("civil_affairs_review",)  # centre waits for the other branch
    assert f.app(app_id).arrived == {"centre_review": ["housing_review"]}
    t = f.act(app_id, "civil_affairs_review", "approve", "mj-civil-affairs", today=day, mark=True)
    assert t.stages == ("centre_review",)
    assert f.app(app_id).arrived == {}
    assert [e.to_stage for e in f.events(app_id) if e.action == "approve"][-2:] == ["centre_review"] * 2


def test_rejection_in_one_branch_ends_both(parallel):
    f = parallel
    app_id = f.create(MZ, today=DAY)
    day = drive(f, app_id, MZ, "street_forward", DAY)
    f.act(app_id, "street_forward", "forward", "mj-street", today=day)
    t = f.act(app_id, "civil_affairs_review", "reject", "mj-civil-affairs", today=day, note="存款超标")
    assert (t.status, t.result, t.stages, t.deadline) == ("closed", "rejected", ("rejected",), None)


def test_shipped_jiangxi_join(flow):
    from wf_support import JX

    app_id = flow.create(JX, today=DAY)
    t = flow.act(app_id, "acceptance", "accept", "jx-street-clerk", today=DAY, mark=True)
    assert t.stages == ("civil_affairs_check", "housing_check")
    t = flow.act(app_id, "civil_affairs_check", "report", "jx-civil-affairs", today=DAY, note="一致")
    assert t.stages == ("housing_check",)
    t = flow.act(app_id, "housing_check", "report", "jx-housing-reviewer", today=DAY, note="无房")
    assert t.stages == ("county_review",)
