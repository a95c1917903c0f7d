"""An objection's review time limit (`objections: {time_limit}`): a clock per objection, due and overdue."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from wf_support import MZ, Flow, drive

from formflow.db.models import ApplicationStage, StageClock
from formflow.usecases.review.at_hand import _review_due, objection_clocks
from formflow.workflow import clocks, engine

DAY = date(2026, 3, 2)
WORKFLOW = "workflows/meizhou-meijiang/public-rental-housing.yaml"
PARAMETERS = "seeds/meizhou-meijiang/parameters.yaml"


def _limited(days) -> object:
    def change(content: dict) -> None:
        content["stages"]["public_notice"]["objections"] = {"time_limit": {"days": days, "unit": "working"}}
    return change


def _object(flow: Flow, app_id: int, today: date) -> engine.Transition:
    with flow.p.sessions.begin() as s:
        return engine.record_objection(s, app_id, flow.account("mj-street"), stage="public_notice",
                                       note="群众反映申请人有商铺未申报", expected_version=flow.app(app_id).version,
                                       today=today, calendar=flow.calendar)


def _dismiss(flow: Flow, app_id: int, objection_id: int, today: date) -> engine.Transition:
    with flow.p.sessions.begin() as s:
        return engine.resolve_objection(
            s, app_id, flow.account("mj-street"), objection_id=objection_id, upheld=False, note="经核实不成立",
            expected_version=flow.app(app_id).version, calendar=flow.calendar, today=today,
            storage=flow.p.storage, renderers=flow.renderers)


def _clock(flow: Flow, app_id: int, objection_id: int) -> StageClock:
    with flow.p.sessions() as s:
        return s.scalars(select(StageClock).where(StageClock.application_id == app_id,
                                                  StageClock.name == clocks.objection_clock(objection_id))).one()


def _at_notice(edited, wf_sqlite, calendar, days) -> tuple[Flow, int, date]:
    edited.edit(WORKFLOW, _limited(days))
    flow = Flow(wf_sqlite, calendar, packs=edited.load())
    app_id = flow.create(MZ, today=DAY)
    return flow, app_id, drive(flow, app_id, MZ, "public_notice", DAY)


def test_a_filed_objection_starts_its_review_clock(edited, wf_sqlite, calendar):
    flow, app_id, day = _at_notice(edited, wf_sqlite, calendar, 10)
    filed = day + timedelta(days=2)
    t = _object(flow, app_id, filed)
    clock = _clock(flow, app_id, t.objection_id)
    due = calendar.add_days(filed, 10, "working")
    assert (clock.started_on, clock.days, clock.unit, clock.due_on, clock.running) == (filed, 10, "working", due, True)
    event = flow.events(app_id)[-1]
    assert event.action == "record_objection" and event.details["review_due_on"] == due.isoformat()
    assert flow.app(app_id).deadline == min(due, flow.app(app_id).deadline)
    with flow.p.sessions() as s:  # what the desk page shows beside the objection
        assert _review_due(objection_clocks(s, app_id).get(t.objection_id), filed) == (due, False)
        assert _review_due(objection_clocks(s, app_id).get(t.objection_id), due + timedelta(days=1)) == (due, True)


def test_an_objection_not_reviewed_in_time_makes_the_application_overdue(edited, wf_sqlite, calendar):
    flow, app_id, day = _at_notice(edited, wf_sqlite, calendar, 3)
    t = _object(flow, app_id, day)
    due = _clock(flow, app_id, t.objection_id).due_on
    report = flow.tick(due)
    assert app_id not in report.overdue and flow.app(app_id).overdue is False
    report = flow.tick(due + timedelta(days=1))
    assert report.overdue == [app_id] and flow.app(app_id).overdue is True
    assert flow.events(app_id)[-1].details["clocks"] == [clocks.objection_clock(t.objection_id)]
    with flow.p.sessions() as s:  # the queue's projection sorts it as overdue, like a stage's time limit
        row = s.scalars(select(ApplicationStage).where(ApplicationStage.application_id == app_id)).one()
        assert (row.stage, row.overdue) == ("public_notice", True)
    _dismiss(flow, app_id, t.objection_id, due + timedelta(days=2))
    clock = _clock(flow, app_id, t.objection_id)
    assert clock.running is False and clock.stopped_on == due + timedelta(days=2)
    assert flow.app(app_id).overdue is False  # the review is done: nothing late any more


def test_an_upheld_objection_stops_its_clock(edited, wf_sqlite, calendar):
    flow, app_id, day = _at_notice(edited, wf_sqlite, calendar, 10)
    t = _object(flow, app_id, day)
    with flow.p.sessions.begin() as s:
        engine.resolve_objection(s, app_id, flow.account("mj-street"), objection_id=t.objection_id, upheld=True,
                                 note="核实有未申报商铺", expected_version=flow.app(app_id).version,
                                 calendar=flow.calendar, today=day, storage=flow.p.storage, renderers=flow.renderers)
    assert _clock(flow, app_id, t.objection_id).stopped_on == day
    assert flow.app(app_id).status == "closed"


def test_without_a_time_limit_no_objection_clock_starts(flow):
    app_id = flow.create(MZ, today=DAY)
    day = drive(flow, app_id, MZ, "public_notice", DAY)
    t = _object(flow, app_id, day)
    assert flow.count(StageClock, application_id=app_id, name=clocks.objection_clock(t.objection_id)) == 0


def test_the_review_time_limit_may_come_from_a_parameter(edited, wf_sqlite, calendar):
    edited.edit(PARAMETERS, lambda c: c["parameters"].update(
        objection_review_working_days={"title": "异议核实时限", "value": 10, "unit": "工作日"}))
    flow, app_id, day = _at_notice(edited, wf_sqlite, calendar, {"param": "objection_review_working_days"})
    t = _object(flow, app_id, day)
    assert _clock(flow, app_id, t.objection_id).days == 10
    assert flow.events(app_id)[-1].details["clock_days"] == {
        clocks.objection_clock(t.objection_id): {"days": 10, "unit": "working",
                                                 "param": "objection_review_working_days"}}


def test_the_desk_page_shows_when_each_objection_must_be_verified(edited, wf_sqlite, calendar):
    from formflow.personal.crypto import install
    from formflow.text.formatting import day
    from support import WebClient, make_web_app

    install(wf_sqlite.keys)  # the data keys the web app opens the application's data with
    flow, app_id, filed = _at_notice(edited, wf_sqlite, calendar, 10)
    t = _object(flow, app_id, filed)
    due = _clock(flow, app_id, t.objection_id).due_on
    wf_sqlite.packs = flow.packs
    app = make_web_app(wf_sqlite)
    app.extensions["formflow.services"].clock.fixed_today = filed
    web = WebClient(app)
    web.login("mj-street")
    page = web.get(f"/desk/applications/{app_id}").get_data(as_text=True)
    assert f'id="objection-{t.objection_id}-due">核实期限：{day(due)}<' in page
