"""Table-driven: (stage, action, account, marking) → moved on, or refused with the right error."""

from __future__ import annotations

from datetime import date

import pytest
from wf_support import JX, MZ, drive

from formflow.db.models import Application
from formflow.workflow.engine import available_actions
from formflow.workflow.errors import ActionNotAvailable, GuardNotMet, ReasonRequired

DAY = date(2026, 3, 2)
OK = "ok"

# (pack, reach stage, act at stage, action, user, marking, note, expected: stages after | error class)
CASES = [
    # Meizhou
    (MZ, "community_acceptance", "community_acceptance", "accept", "mj-community", "pass", None, ("street_review",)),
    (MZ, "community_acceptance", "community_acceptance", "accept", "mj-community", None, None, GuardNotMet),
    (MZ, "community_acceptance", "community_acceptance", "accept", "mj-community", "fail", None, GuardNotMet),
    (MZ, "community_acceptance", "community_acceptance", "accept", "mj-street", "pass", None, ActionNotAvailable),
    (MZ, "community_acceptance", "community_acceptance", "reject", "mj-community", None, "不在本区", ("not_accepted",)),
    (MZ, "community_acceptance", "community_acceptance", "reject", "mj-community", None, None, ReasonRequired),
    (MZ, "community_acceptance", "community_acceptance", "request_correction", "mj-community", None, "缺身份证",
     ("community_acceptance",)),
    (MZ, "community_acceptance", "community_acceptance", "approve", "mj-community", None, None, ActionNotAvailable),
    (MZ, "community_acceptance", "street_review", "approve", "mj-street", None, None, ActionNotAvailable),
    (MZ, "community_acceptance", "community_acceptance", "accept", "mj-leader", "pass", None, ActionNotAvailable),
    (MZ, "community_acceptance", "community_acceptance", "accept", "mj-citizen-chen", "pass", None,
     ActionNotAvailable),
    (MZ, "street_review", "street_review", "approve", "mj-street", "pass", None, ("public_notice",)),
    (MZ, "street_review", "street_review", "approve", "mj-community", "pass", None, ActionNotAvailable),
    (MZ, "street_review", "street_review", "reject", "mj-street", None, "收入超标", ("rejected",)),
    (MZ, "public_notice", "public_notice", "uphold_objection", "mj-street", None, "有异议", GuardNotMet),
    (MZ, "street_forward", "street_forward", "forward", "mj-street", None, None, ("civil_affairs_review",)),
    (MZ, "street_forward", "street_forward", "forward", "mj-civil-affairs", None, None, ActionNotAvailable),
    (MZ, "civil_affairs_review", "civil_affairs_review", "approve", "mj-civil-affairs", "pass", None,
     ("housing_review",)),
    (MZ, "civil_affairs_review", "civil_affairs_review", "approve", "mj-housing", "pass", None, ActionNotAvailable),
    (MZ, "housing_review", "housing_review", "approve", "mj-housing", "pass", None, ("centre_review",)),
    (MZ, "centre_review", "centre_review", "approve", "mj-centre", "pass", None, ("section_approval",)),
    (MZ, "centre_review", "centre_review", "approve", "mj-section", "pass", None, ActionNotAvailable),
    (MZ, "section_approval", "section_approval", "approve", "mj-section", "pass", None, ("leader_approval",)),
    (MZ, "section_approval", "section_approval", "approve", "mj-leader", "pass", None, ActionNotAvailable),
    (MZ, "leader_approval", "leader_approval", "approve", "mj-leader", "pass", None, ("approved",)),
    (MZ, "leader_approval", "leader_approval", "reject", "mj-leader", None, "不符合条件", ("rejected",)),
    # Jiangxi
    (JX, "acceptance", "acceptance", "accept", "jx-street-clerk", "pass", None,
     ("civil_affairs_check", "housing_check")),
    (JX, "acceptance", "acceptance", "accept", "jx-window-clerk", "pass", None, ActionNotAvailable),
    (JX, "acceptance", "acceptance", "request_correction", "jx-street-clerk", None, None, ReasonRequired),
    (JX, "acceptance", "acceptance", "reject", "jx-street-clerk", None, "材料不全", ("not_accepted",)),
    (JX, "civil_affairs_check", "civil_affairs_check", "report", "jx-civil-affairs", None, "一致", ("housing_check",)),
    (JX, "civil_affairs_check", "civil_affairs_check", "report", "jx-civil-affairs", None, None, ReasonRequired),
    (JX, "civil_affairs_check", "civil_affairs_check", "report", "jx-housing-reviewer", None, "x", ActionNotAvailable),
    (JX, "housing_check", "housing_check", "report", "jx-housing-reviewer", None, "无房", ("civil_affairs_check",)),
    (JX, "county_review", "county_review", "approve", "jx-housing-reviewer", "pass", None, ("public_notice",)),
    (JX, "county_review", "county_review", "approve", "jx-civil-affairs", "pass", None, ActionNotAvailable),
    (JX, "county_review", "county_review", "reject", "jx-housing-reviewer", None, "收入超标", ("rejected",)),
    (JX, "registration", "registration", "register", "jx-housing-reviewer", None, None, ("approved",)),
    (JX, "registration", "registration", "register", "jx-street-clerk", None, None, ActionNotAvailable),
]


@pytest.mark.parametrize(("pack", "reach", "stage", "action", "user", "marking", "note", "expected"), CASES,
                         ids=[f"{c[0][:2]}-{c[2]}-{c[3]}-{c[4]}-{c[5]}" for c in CASES])
def test_action_table(flow, pack, reach, stage, action, user, marking, note, expected):
    app_id = flow.create(pack, today=DAY)
    day = drive(flow, app_id, pack, reach, DAY)
    if marking is not None:
        flow.mark(app_id, stage, user if "citizen" not in user else "mj-community",
                  fail_row="1" if marking == "fail" else None)
    before = flow.app(app_id)
    if isinstance(expected, tuple):
        t = flow.act(app_id, stage, action, user, today=day, note=note)
        assert t.stages == expected
        assert t.version == before.version + 1
        return
    with pytest.raises(expected) as caught:
        flow.act(app_id, stage, action, user, today=day, note=note)
    assert f"action '{action}'" in str(caught.value) and f"stage '{stage}'" in str(caught.value)
    after = flow.app(app_id)
    assert (after.version, after.stages) == (before.version, before.stages)  # nothing changed


def test_refusal_message_names_action_stage_and_role(flow):
    app_id = flow.create(MZ, today=DAY)
    with pytest.raises(ActionNotAvailable) as caught:
        flow.act(app_id, "community_acceptance", "accept", "mj-street", today=DAY)
    assert str(caught.value).startswith(
        "action 'accept' is not available at stage 'community_acceptance' for role 'street_reviewer'")
    assert caught.value.role == "street_reviewer"


def test_jurisdiction_other_community(flow):
    """The demo clerk's community is 441402001001: an application of its sister community is not hers."""
    app_id = flow.create(MZ, office="441402001002", today=DAY)
    flow.mark(app_id, "community_acceptance", "mj-community")
    with pytest.raises(ActionNotAvailable, match="for role 'community_clerk'"):
        flow.act(app_id, "community_acceptance", "accept", "mj-community", today=DAY)


def test_available_actions_say_why_not(flow):
    app_id = flow.create(MZ, today=DAY)
    with flow.p.sessions() as s:
        app = s.get(Application, app_id)
        mine = {a.action: a for a in available_actions(s, app, flow.account("mj-community"), today=DAY)}
        assert set(mine) == {"accept", "reject", "request_correction"}
        assert not mine["accept"].allowed and "审查表" in mine["accept"].why_not
        assert mine["reject"].allowed and mine["reject"].reason_required
        assert mine["request_correction"].correction
        assert available_actions(s, app, flow.account("mj-street"), today=DAY) == []
    flow.mark(app_id, "community_acceptance", "mj-community")
    with flow.p.sessions() as s:
        app = s.get(Application, app_id)
        mine = {a.action: a for a in available_actions(s, app, flow.account("mj-community"), today=DAY)}
        assert mine["accept"].allowed and mine["accept"].why_not is None
