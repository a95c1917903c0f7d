"""The public-notice timer: expiry by tick, an objection blocks it, dismissed or upheld."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from wf_support import MZ, drive

from formflow.db.models import Objection
from formflow.workflow import engine
from formflow.workflow.errors import ActionNotAvailable, GuardNotMet

DAY = date(2026, 3, 2)


def _at_notice(flow):
    app_id = flow.create(MZ, today=DAY)
    drive(flow, app_id, MZ, "public_notice", DAY)
    return app_id, flow.app(app_id).deadline


def _objection(flow, app_id, user="mj-street", today=DAY):
    with flow.p.sessions.begin() as s:
        return engine.record_objection(s, app_id, flow.account(user), stage="public_notice",
                                       note="群众反映申请人有商铺未申报",
                                       expected_version=flow.app(app_id).version, today=today)


def _resolve(flow, app_id, objection_id, upheld, note=None, today=DAY):
    with flow.p.sessions.begin() as s:
        return engine.resolve_objection(
            s, app_id, flow.account("mj-street"), objection_id=objection_id, upheld=upheld, note=note,
            expected_version=flow.app(app_id).version, calendar=flow.calendar, today=today,
            storage=flow.p.storage, renderers=flow.renderers)


def test_timer_expires_without_objection(flow):
    app_id, due = _at_notice(flow)
    assert due == DAY + timedelta(days=20)
    assert flow.tick(due).expired == []
    report = flow.tick(due + timedelta(days=1))
    assert report.expired == [app_id] and report.blocked == []
    assert flow.app(app_id).stages == ["street_forward"]
    assert flow.app(app_id).deadline == flow.calendar.add_days(due + timedelta(days=1), 5, "working")
    assert flow.tick(due + timedelta(days=2)).expired == []  # moved once


def test_objection_blocks_expiry_until_dismissed(flow):
    app_id, due = _at_notice(flow)
    with pytest.raises(ActionNotAvailable, match="for role 'community_clerk'"):
        _objection(flow, app_id, user="mj-community")
    t = _objection(flow, app_id)
    assert t.objection_id and t.stages == ("public_notice",)
    report = flow.tick(due + timedelta(days=3))
    assert report.blocked == [app_id] and report.expired == []
    assert flow.app(app_id).stages == ["public_notice"]
    assert flow.app(app_id).overdue is False  # a timer's duration is not a time limit
    _resolve(flow, app_id, t.objection_id, upheld=False, note="经核实，商铺属他人所有")
    assert flow.tick(due + timedelta(days=4)).expired == [app_id]
    assert flow.app(app_id).stages == ["street_forward"]
    assert flow.actions(app_id)[-3:] == ["record_objection", "dismiss_objection", "expire"]


def test_upheld_objection_performs_the_configured_action(flow):
    app_id, due = _at_notice(flow)
    with pytest.raises(GuardNotMet, match="没有待处理的异议"):
        flow.act(app_id, "public_notice", "uphold_objection", "mj-street", today=DAY, note="x")
    t = _objection(flow, app_id)
    t = _resolve(flow, app_id, t.objection_id, upheld=True, note="核实有未申报商铺")
    assert (t.status, t.result) == ("closed", "rejected")
    assert [n.kind for n in t.notices] == ["ineligible-street"]
    assert flow.actions(app_id)[-2:] == ["record_objection", "uphold_objection"]
    with flow.p.sessions() as s:
        objection = s.get(Objection, flow.events(app_id)[-1].details["objections"][0])
        assert objection.upheld is True and objection.resolution == "核实有未申报商铺"
    assert flow.tick(due + timedelta(days=5)).expired == []
