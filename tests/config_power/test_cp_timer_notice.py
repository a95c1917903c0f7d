"""A timer stage that issues a notice when it moves on by itself (`expiry_notice`)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from wf_support import MZ, Flow, drive

from formflow.db.models import Notice, OutboxMessage

DAY = date(2026, 3, 2)
WORKFLOW = "workflows/meizhou-meijiang/public-rental-housing.yaml"


def _with_expiry_notice(content: dict) -> None:
    content["notices"]["notice-ended"] = {"title": "公示期满通知书", "template": "documents/acceptance.html",
                                          "number": "梅江公示满〔{year}〕{seq}号"}
    content["stages"]["public_notice"]["expiry_notice"] = "notice-ended"


def test_the_tick_that_ends_a_public_notice_issues_its_notice(edited, wf_sqlite, calendar):
    edited.edit(WORKFLOW, _with_expiry_notice)
    flow = Flow(wf_sqlite, calendar, packs=edited.load())
    app_id = flow.create(MZ, today=DAY)
    drive(flow, app_id, MZ, "public_notice", DAY)
    due = flow.app(app_id).deadline
    assert flow.tick(due).expired == []  # the last day of the period: still at the notice
    assert flow.count(Notice, application_id=app_id, kind="notice-ended") == 0

    assert flow.tick(due + timedelta(days=1)).expired == [app_id]
    expire = flow.events(app_id)[-1]
    assert expire.action == "expire" and expire.details["notices"] == ["notice-ended"]
    with flow.p.sessions() as s:
        notice = s.scalars(select(Notice).where(Notice.application_id == app_id, Notice.kind == "notice-ended")).one()
        assert notice.event_id == expire.id  # written with the move's history event
        assert notice.title == "公示期满通知书" and notice.number == f"梅江公示满〔{due.year}〕1号"
        message = s.scalars(select(OutboxMessage).where(OutboxMessage.key == f"notice:{notice.id}")).one()
        assert message.kind == "render_notice"
        assert message.payload["context"]["office_name"]  # the issuing office: the stage owner's office
    assert flow.tick(due + timedelta(days=2)).expired == []  # moved once, one notice
    assert flow.count(Notice, application_id=app_id, kind="notice-ended") == 1


def test_expiry_notice_and_objection_clock_on_each_database(edited, any_flow, calendar):
    """The tick's notice and an objection's review clock, on SQLite and on PostgreSQL."""
    from formflow.db.models import StageClock
    from formflow.workflow import clocks, engine

    def change(content: dict) -> None:
        _with_expiry_notice(content)
        content["stages"]["public_notice"]["objections"] = {"time_limit": {"days": 10, "unit": "working"}}
    edited.edit(WORKFLOW, change)
    flow = Flow(any_flow.p, calendar, packs=edited.load())
    app_id = flow.create(MZ, today=DAY)
    day = drive(flow, app_id, MZ, "public_notice", DAY)
    with flow.p.sessions.begin() as s:
        t = engine.record_objection(s, app_id, flow.account("mj-street"), stage="public_notice", note="异议",
                                    expected_version=flow.app(app_id).version, today=day, calendar=calendar)
    name = clocks.objection_clock(t.objection_id)
    assert flow.count(StageClock, application_id=app_id, name=name, running=True) == 1
    with flow.p.sessions.begin() as s:
        engine.resolve_objection(s, app_id, flow.account("mj-street"), objection_id=t.objection_id, upheld=False,
                                 note="不成立", expected_version=flow.app(app_id).version, calendar=calendar,
                                 today=day, storage=flow.p.storage, renderers=flow.renderers)
    assert flow.count(StageClock, application_id=app_id, name=name, running=False) == 1
    due = flow.app(app_id).deadline
    assert flow.tick(due + timedelta(days=1)).expired == [app_id]
    assert flow.count(Notice, application_id=app_id, kind="notice-ended") == 1


def test_the_notice_is_rendered_by_the_outbox(edited, wf_sqlite, calendar):
    from support import drain_outbox

    edited.edit(WORKFLOW, _with_expiry_notice)
    flow = Flow(wf_sqlite, calendar, packs=edited.load())
    app_id = flow.create(MZ, today=DAY)
    drive(flow, app_id, MZ, "street_forward", DAY)
    drain_outbox(wf_sqlite)
    with flow.p.sessions() as s:
        notice = s.scalars(select(Notice).where(Notice.application_id == app_id, Notice.kind == "notice-ended")).one()
        assert notice.status == "ready" and notice.sha256


def test_a_timer_without_expiry_notice_issues_none(flow):
    app_id = flow.create(MZ, today=DAY)
    drive(flow, app_id, MZ, "street_forward", DAY)
    assert "notices" not in [e for e in flow.events(app_id) if e.action == "expire"][0].details


def test_check_refuses_an_unknown_expiry_notice(edited):
    edited.edit(WORKFLOW, lambda c: c["stages"]["public_notice"].update(expiry_notice="no-such-notice"))
    problems = [p for p in edited.load(ok=False).problems if p.pointer.endswith("/expiry_notice")]
    assert problems and "no-such-notice" in problems[0].message
