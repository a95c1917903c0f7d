"""The applicant withdraws in the middle of a review; nobody can act afterwards."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from wf_support import CITIZEN, JX, MZ, drive

from formflow.db.models import StageClock
from formflow.workflow import engine
from formflow.workflow.errors import ActionNotAvailable, StaleApplication


def _withdraw(flow, app_id, username, version, reason=None):
    with flow.p.sessions.begin() as s:
        return engine.withdraw(s, app_id, flow.account(username), expected_version=version, reason=reason,
                               today=date(2026, 3, 10), calendar=flow.calendar)


def test_withdraw_mid_review(flow):
    app_id = flow.create(MZ, today=date(2026, 3, 2))
    drive(flow, app_id, MZ, "civil_affairs_review", date(2026, 3, 2))
    flow.mark(app_id, "civil_affairs_review", "mj-civil-affairs")  # the reviewer is half-way
    version = flow.app(app_id).version
    with pytest.raises(ActionNotAvailable, match="action 'withdraw' is not available .* for role 'street_reviewer'"):
        _withdraw(flow, app_id, "mj-street", version)
    with pytest.raises(StaleApplication, match="已被他人处理"):
        _withdraw(flow, app_id, CITIZEN[MZ], version - 1)
    t = _withdraw(flow, app_id, CITIZEN[MZ], version, reason="已购房")
    assert (t.status, t.result, t.stages) == ("closed", "withdrawn", ("withdrawn",))
    event = flow.events(app_id)[-1]
    assert (event.action, event.actor_role, event.from_stage, event.to_stage, event.note) == (
        "withdraw", "citizen", "civil_affairs_review", "withdrawn", "已购房")
    with flow.p.sessions() as s:
        clocks = s.scalars(select(StageClock).where(StageClock.application_id == app_id)).all()
        assert all(not c.running and c.stopped_on for c in clocks)
    with pytest.raises(ActionNotAvailable, match="申请已办结"):
        flow.act(app_id, "civil_affairs_review", "approve", "mj-civil-affairs", today=date(2026, 3, 11))


def test_withdraw_during_parallel_branches_and_correction(flow):
    app_id = flow.create(JX, today=date(2026, 3, 2))
    flow.act(app_id, "acceptance", "accept", "jx-street-clerk", today=date(2026, 3, 2), mark=True)
    t = flow.act(app_id, "housing_check", "report", "jx-housing-reviewer", today=date(2026, 3, 3), note="无房")
    assert t.stages == ("civil_affairs_check",)
    t = _withdraw(flow, app_id, CITIZEN[JX], t.version)
    assert (t.status, t.result, t.stages) == ("closed", "withdrawn", ("withdrawn",))
    assert flow.app(app_id).arrived == {}
