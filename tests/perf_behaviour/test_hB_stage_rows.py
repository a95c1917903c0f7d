"""The queue projection (`application_stages`) lists exactly the current stages after every kind of move.

The engine writes the projection without reading it first (`workflow.moves.sync_stage_rows` with the
stages the application was at): one stage for another is one UPDATE of the row, other moves drop and add
rows. These tests check the rows, with the overdue flag and deadline the queue sorts by, after each step
of the happy path, a correction and its answer, a rejection, a withdrawal and parallel branches that fork
and join, on both databases; and that a projection out of step (a row missing, a row already there) is
set right by the same call, as the path that reads the rows first does.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tests" / "workflow") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "workflow"))

from wf_support import HAPPY, MZ, Flow  # noqa: E402

from formflow.calendars.workdays import load_calendar  # noqa: E402
from formflow.db.models import NO_DEADLINE, Application, ApplicationStage  # noqa: E402
from formflow.workflow import engine  # noqa: E402
from formflow.workflow.moves import sync_stage_rows  # noqa: E402

DAY = date(2026, 3, 2)


@pytest.fixture
def flow(platform_db) -> Flow:
    return Flow(platform_db, load_calendar(ROOT / "seeds" / "calendar"))


def assert_projected(flow: Flow, app_id: int) -> None:
    """The rows are the current stages of an active application (none otherwise), with its order keys."""
    with flow.p.sessions() as session:
        app = session.get(Application, app_id)
        rows = session.scalars(select(ApplicationStage).where(ApplicationStage.application_id == app_id)).all()
        want = sorted(app.stages or []) if app.status == "active" else []
        assert sorted(r.stage for r in rows) == want, (app.status, app.stages)
        for row in rows:
            assert (row.pack, row.office_path) == (app.pack, app.office_path)
            assert (row.overdue, row.due) == (bool(app.overdue), app.deadline or NO_DEADLINE), row.stage


def test_every_step_of_the_happy_path(flow):
    app_id = flow.create(MZ, today=DAY)
    assert_projected(flow, app_id)
    day = DAY
    for stage, action, user, mark, _note in HAPPY[MZ]:
        if action is None:
            day = flow.app(app_id).deadline + timedelta(days=1)
            assert flow.tick(day).expired == [app_id], stage
        else:
            flow.act(app_id, stage, action, user, today=day, mark=mark)
        assert_projected(flow, app_id)
    assert flow.app(app_id).status == "closed"


def test_correction_answer_rejection(flow):
    app_id = flow.create(MZ, today=DAY)
    flow.act(app_id, "community_acceptance", "request_correction", "mj-community", today=DAY,
             note="身份证复印件不清晰", materials=["id_card"])
    assert_projected(flow, app_id)
    with flow.p.sessions.begin() as s:
        app = s.get(Application, app_id)
        engine.answer_correction(s, app_id, flow.account("mj-citizen-chen"), expected_version=app.version,
                                 calendar=flow.calendar, today=DAY)
    assert_projected(flow, app_id)
    flow.act(app_id, "community_acceptance", "reject", "mj-community", today=DAY, note="不符合条件")
    assert_projected(flow, app_id)
    assert flow.app(app_id).status == "closed"


def test_withdrawal(flow):
    app_id = flow.create(MZ, today=DAY)
    flow.act(app_id, "community_acceptance", "accept", "mj-community", today=DAY, mark=True)
    with flow.p.sessions.begin() as s:
        engine.withdraw(s, app_id, flow.account("mj-citizen-chen"), expected_version=None, reason="不再需要",
                        today=DAY, calendar=flow.calendar)
    assert_projected(flow, app_id)


def test_fork_and_join(platform_db, config_copy):
    from formflow.packs import load_packs

    path = config_copy / "workflows" / MZ / "public-rental-housing.yaml"
    wf = yaml.safe_load(path.read_text(encoding="utf-8"))
    stages = wf["stages"]
    stages["street_forward"]["actions"]["forward"]["to"] = ["civil_affairs_review", "housing_review"]
    stages["civil_affairs_review"]["actions"]["approve"]["to"] = "centre_review"
    stages["housing_review"]["time_limit"] = {"days": 10, "unit": "working"}
    stages["centre_review"]["join"] = ["civil_affairs_review", "housing_review"]
    path.write_text(yaml.safe_dump(wf, allow_unicode=True, sort_keys=False), encoding="utf-8")
    packs = load_packs(config_copy)
    assert not packs.problems, packs.problems
    flow = Flow(platform_db, load_calendar(ROOT / "seeds" / "calendar"), packs)
    app_id = flow.create(MZ, today=DAY)
    day = DAY
    for stage, action, user, mark, _note in HAPPY[MZ][:4]:
        if action is None:
            day = flow.app(app_id).deadline + timedelta(days=1)
            assert flow.tick(day).expired == [app_id], stage
        else:
            flow.act(app_id, stage, action, user, today=day, mark=mark)
        assert_projected(flow, app_id)
    assert flow.app(app_id).stages == ["civil_affairs_review", "housing_review"]
    flow.act(app_id, "housing_review", "approve", "mj-housing", today=day, mark=True)
    assert_projected(flow, app_id)
    flow.act(app_id, "civil_affairs_review", "approve", "mj-civil-affairs", today=day, mark=True)
    assert flow.app(app_id).stages == ["centre_review"]
    assert_projected(flow, app_id)


@pytest.mark.parametrize("broken", ["source row missing", "target row there already", "both"])
def test_a_projection_out_of_step_is_set_right(flow, broken):
    app_id = flow.create(MZ, today=DAY)
    with flow.p.sessions.begin() as s:
        app = s.get(Application, app_id)
        if broken in ("source row missing", "both"):
            for row in s.scalars(select(ApplicationStage).where(ApplicationStage.application_id == app_id)):
                s.delete(row)
        if broken in ("target row there already", "both"):
            s.add(ApplicationStage(application_id=app_id, stage="street_review", pack=app.pack,
                                   office_path=app.office_path, overdue=True, due=DAY))
        s.flush()
        app.stages = ["street_review"]
        s.flush()
        sync_stage_rows(s, app, before=["community_acceptance"])
    if broken == "source row missing":
        assert_projected(flow, app_id)
    with flow.p.sessions() as s:  # a row already there is left as it was, as when the rows are read first
        rows = s.scalars(select(ApplicationStage.stage).where(ApplicationStage.application_id == app_id)).all()
        assert rows == ["street_review"]
