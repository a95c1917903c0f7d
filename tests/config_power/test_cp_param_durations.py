"""Day counts written `{param: id}`: read from parameters.yaml, recorded on the clock, checked."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from wf_support import MZ, Flow

from formflow.db.models import StageClock
from formflow.workflow import clocks

DAY = date(2026, 3, 2)
WORKFLOW = "workflows/meizhou-meijiang/public-rental-housing.yaml"
PARAMETERS = "seeds/meizhou-meijiang/parameters.yaml"


def _clock(flow: Flow, app_id: int, name: str) -> StageClock:
    with flow.p.sessions() as s:
        return s.scalars(select(StageClock).where(StageClock.application_id == app_id,
                                                  StageClock.name == name)).one()


def _set(name: str, value) -> object:
    return lambda c: c["parameters"][name].update(value=value)


def test_the_shipped_workflow_takes_its_days_from_the_parameters(flow):
    app_id = flow.create(MZ, today=DAY)
    clock = _clock(flow, app_id, "community_acceptance")
    assert (clock.days, clock.unit) == (3, "working")
    assert flow.events(app_id)[0].details["clock_days"] == {
        "community_acceptance": {"days": 3, "unit": "working", "param": "acceptance_working_days"}}
    flow.act(app_id, "community_acceptance", "accept", "mj-community", today=DAY, mark=True)
    assert _clock(flow, app_id, clocks.COMMITMENT).days == 90


def test_a_changed_parameter_gives_new_applications_new_days(edited, wf_sqlite, calendar):
    old = Flow(wf_sqlite, calendar)
    before = old.create(MZ, today=DAY)
    edited.edit(PARAMETERS, _set("acceptance_working_days", 7))
    edited.edit(PARAMETERS, _set("commitment_working_days", 60))
    flow = Flow(wf_sqlite, calendar, packs=edited.load())
    after = flow.create(MZ, today=DAY)

    clock = _clock(flow, after, "community_acceptance")
    assert clock.days == 7 and clock.due_on == calendar.add_days(DAY, 7, "working")
    assert flow.app(after).deadline == clock.due_on
    assert flow.events(after)[0].details["clock_days"]["community_acceptance"]["days"] == 7
    flow.act(after, "community_acceptance", "accept", "mj-community", today=DAY, mark=True)
    assert _clock(flow, after, clocks.COMMITMENT).days == 60
    # the application submitted before keeps the days it was submitted under (its pinned parameters)
    assert _clock(flow, before, "community_acceptance").days == 3
    old.act(before, "community_acceptance", "accept", "mj-community", today=DAY, mark=True)
    assert _clock(flow, before, clocks.COMMITMENT).days == 90


def test_check_names_an_unknown_parameter_and_the_likely_one(edited):
    edited.edit(WORKFLOW, lambda c: c["stages"]["street_forward"].update(
        time_limit={"days": {"param": "forward_workng_days"}, "unit": "working"}))
    problems = edited.load(ok=False).problems
    found = [p for p in problems if p.pointer == "/stages/street_forward/time_limit/days"]
    assert len(found) == 1, problems
    assert "forward_workng_days" in found[0].message and "forward_working_days" in found[0].message
    assert found[0].file.endswith("public-rental-housing.yaml")


def test_check_refuses_a_parameter_that_is_not_a_whole_number(edited):
    edited.edit(PARAMETERS, _set("public_notice_days", 20.5))
    problems = edited.load(ok=False).problems
    found = [p for p in problems if p.pointer == "/stages/public_notice/duration/days"]
    assert len(found) == 1 and "public_notice_days" in found[0].message, problems


def test_messages_and_correction_days_may_name_parameters(edited):
    edited.edit(PARAMETERS, lambda c: c["parameters"].update(
        correction_working_days={"title": "补正期限", "value": 8, "unit": "工作日"}))
    edited.edit("schemas/meizhou-meijiang/public-rental-housing/messages.yaml",
                lambda c: c["correction_deadline"].update(days={"param": "correction_working_days"}))
    edited.edit(WORKFLOW, lambda c: c["notice_defaults"]["correction"].update(
        working_days={"param": "correction_working_days"}))
    packs = edited.load()
    matter = packs.packs[MZ].matters["public-rental-housing"]
    assert matter.messages.content["correction_deadline"]["days"] == 8
    assert matter.workflow.content["notice_defaults"]["correction"]["working_days"] == 8

    from formflow.documents.notices import notice_settings
    from formflow.notifications.kinds import parse

    assert parse(MZ, "public-rental-housing", matter.messages.content).correction_deadline == (8, "working")
    assert notice_settings(matter.workflow.content, "correction")["correction_days"] == 8
