"""Issue #14: the batch lottery inside the application's process (a `kind: lottery` stage)."""

from __future__ import annotations

from datetime import date

import pytest
from ls_support import FLATS, WORKFLOW, alloc, at_lottery, number, with_lottery_stage
from wf_support import Flow

from formflow.allocation import draws, lottery
from formflow.allocation.register import AllocationError
from formflow.db.models import LotteryBatch
from formflow.workflow import engine, lottery_stage

DAY = date(2026, 3, 2)


@pytest.fixture
def flow(edited, wf_sqlite, calendar) -> Flow:
    edited.edit(WORKFLOW, with_lottery_stage)
    packs = edited.load()
    wf_sqlite.packs = packs
    return Flow(wf_sqlite, calendar, packs=packs)


def _batch(flow: Flow, today: date) -> int:
    with flow.p.sessions.begin() as s:
        return lottery_stage.create_batch(s, alloc(flow.packs), stage="lottery", title="2026年第一批",
                                          flats=draws.parse_flats(FLATS), actor=flow.account("mj-housing"),
                                          today=today).id


def _commit_and_draw(flow: Flow, batch_id: int, today: date) -> LotteryBatch:
    with flow.p.sessions.begin() as s:
        draws.commit(s, batch_id, flow.account("mj-housing"), witness_source="公证员现场宣读的数字")
    with flow.p.sessions.begin() as s:
        batch = draws.draw(s, batch_id, flow.account("mj-housing"), witness="07 19 23", today=today,
                           calendar=lambda pack: flow.calendar)
        s.expunge(batch)
        return batch


def test_the_draw_moves_winners_and_losers_on_with_their_history(flow):
    sizes = {at_lottery(flow, n, DAY, name): n for n, name in [(2, "陈志强"), (1, "李梅"), (3, "王芳"), (2, "张伟")]}
    too_big = at_lottery(flow, 6, DAY)  # no flat suits six persons: not an entrant, stays at the stage
    today = flow.app(too_big).updated_at.date()
    batch_id = _batch(flow, today)
    with flow.p.sessions() as s:
        draft = s.get(LotteryBatch, batch_id)
        assert draft.stage == "lottery"
        codes = {e["code"] for e in draft.entrants}
        assert codes == {number(flow, a) for a in sizes}
        assert {e["name"] for e in draft.entrants} == {"陈**", "李*", "王*", "张*"}  # masked in the published file

    batch = _commit_and_draw(flow, batch_id, today)
    doc = draws.published(batch)
    assert lottery.verify(doc) == []  # the same verifiable draw as the household batches
    flat_of = {r["entrant"]: r["flat"] for r in batch.result}
    assert sorted(f for f in flat_of.values() if f) == ["F-101", "F-201"]

    for app_id in sizes:
        code = number(flow, app_id)
        app, last = flow.app(app_id), flow.events(app_id)[-1]
        assert last.from_stage == "lottery" and last.actor_id == flow.account("mj-housing").id
        assert last.details["batch"] == batch_id and last.details["ticket"]
        if flat_of[code]:
            assert app.stages == ["allocated"] and last.action == "lottery_won" and last.to_stage == "allocated"
            assert last.details["flat"]["code"] == flat_of[code] and last.details["flat"]["batch"] == batch_id
            assert flat_of[code] in last.note and "江南路1号" in last.note  # the flat, visible in the history
        else:
            assert app.stages == ["waiting"] and last.action == "lottery_lost" and last.details["flat"] is None
            assert "未抽中房源" in last.note
    assert flow.app(too_big).stages == ["lottery"]
    assert [e.action for e in flow.events(too_big)][-1] == "approve"

    # the winner goes on in the workflow: the allocation stage's own action closes it
    winner = next(a for a in sizes if flat_of[number(flow, a)])
    t = flow.act(winner, "allocated", "sign", "mj-housing", today=today)
    assert t.status == "closed" and t.result == "approved"


def test_the_history_shows_the_draw_and_the_flat(flow):
    """Staff and the applicant read the draw in the application's history, with the flat drawn."""
    from formflow.db.models import Application
    from formflow.usecases.timeline import timeline
    from formflow.workflow.moves import workflow_of

    app_id = at_lottery(flow, 2, DAY)
    today = flow.app(app_id).updated_at.date()
    _commit_and_draw(flow, _batch(flow, today), today)
    with flow.p.sessions() as s:
        app = s.get(Application, app_id)
        spec = workflow_of(s, app)
        for audience in ("staff", "citizen"):
            last = timeline(s, app, spec, audience=audience)[-1]
            assert last.title == "抽签配租：抽中房源"
            assert last.stage == "抽签配租" and last.to_stage == "签订租赁合同" and last.moved
            assert "F-101" in last.note and "江南路1号101" in last.note


def test_an_application_arriving_after_the_batch_is_not_in_it(flow):
    first = at_lottery(flow, 2, DAY)
    today = flow.app(first).updated_at.date()
    batch_id = _batch(flow, today)
    with flow.p.sessions.begin() as s:
        draws.commit(s, batch_id, flow.account("mj-housing"))
    late = at_lottery(flow, 2, DAY)  # reaches the stage after the commit
    with flow.p.sessions.begin() as s:
        batch = draws.draw(s, batch_id, flow.account("mj-housing"), today=today, calendar=lambda p: flow.calendar)
        assert [r["entrant"] for r in batch.result] == [number(flow, first)]
    assert flow.app(first).stages == ["allocated"]
    assert flow.app(late).stages == ["lottery"]  # waits for the next batch
    assert [e.action for e in flow.events(late)][-1] == "approve"
    # the next batch takes it
    second = _batch(flow, today)
    with flow.p.sessions() as s:
        assert [e["code"] for e in s.get(LotteryBatch, second).entrants] == [number(flow, late)]


def test_commit_refuses_when_an_entrant_left_the_stage_and_nothing_changes(flow):
    kept, gone = at_lottery(flow, 2, DAY), at_lottery(flow, 3, DAY)
    today = flow.app(gone).updated_at.date()
    batch_id = _batch(flow, today)
    with flow.p.sessions.begin() as s:
        engine.withdraw(s, gone, flow.account("mj-citizen-chen"), expected_version=None, today=today,
                        calendar=flow.calendar)
    with pytest.raises(AllocationError) as refused:
        with flow.p.sessions.begin() as s:
            draws.commit(s, batch_id, flow.account("mj-housing"))
    assert refused.value.code == "entrants_gone" and number(flow, gone) in refused.value.message
    assert "已不在抽签环节" in refused.value.message
    with flow.p.sessions() as s:
        assert s.get(LotteryBatch, batch_id).status == "draft"
    assert flow.app(kept).stages == ["lottery"]


def test_an_entrant_withdrawn_after_the_commit_is_not_moved(flow):
    kept, gone = at_lottery(flow, 2, DAY), at_lottery(flow, 3, DAY)
    today = flow.app(gone).updated_at.date()
    batch_id = _batch(flow, today)
    with flow.p.sessions.begin() as s:
        draws.commit(s, batch_id, flow.account("mj-housing"))
    with flow.p.sessions.begin() as s:
        engine.withdraw(s, gone, flow.account("mj-citizen-chen"), expected_version=None, today=today,
                        calendar=flow.calendar)
    events_before = len(flow.events(gone))
    with flow.p.sessions.begin() as s:
        draws.draw(s, batch_id, flow.account("mj-housing"), today=today, calendar=lambda p: flow.calendar)
    assert flow.app(gone).status == "closed" and len(flow.events(gone)) == events_before
    assert flow.app(kept).stages == ["allocated"]


def test_no_application_at_the_stage_is_refused(flow):
    with pytest.raises(AllocationError) as refused:
        _batch(flow, DAY)
    assert refused.value.code == "no_entrants" and "没有适配" in refused.value.message
    with flow.p.sessions() as s:
        assert s.query(LotteryBatch).count() == 0


def test_a_failing_move_rolls_the_whole_draw_back(flow, monkeypatch):
    a, b = at_lottery(flow, 2, DAY), at_lottery(flow, 3, DAY)
    today = flow.app(b).updated_at.date()
    batch_id = _batch(flow, today)
    with flow.p.sessions.begin() as s:
        draws.commit(s, batch_id, flow.account("mj-housing"))
    calls = []

    def broken(pack):
        calls.append(pack)
        if len(calls) == 2:
            raise RuntimeError("calendar unavailable")
        return flow.calendar

    with pytest.raises(RuntimeError):
        with flow.p.sessions.begin() as s:
            draws.draw(s, batch_id, flow.account("mj-housing"), today=today, calendar=broken)
    with flow.p.sessions() as s:
        assert s.get(LotteryBatch, batch_id).status == "committed"
    assert flow.app(a).stages == ["lottery"] and flow.app(b).stages == ["lottery"]


def test_the_stage_draw_on_each_database(edited, platform_db, calendar):
    """Set up, publish and draw a stage batch on SQLite and on PostgreSQL; versions move with the draw."""
    edited.edit(WORKFLOW, with_lottery_stage)
    platform_db.packs = edited.load()
    flow = Flow(platform_db, calendar, packs=platform_db.packs)
    apps = [at_lottery(flow, 2, DAY), at_lottery(flow, 4, DAY), at_lottery(flow, 1, DAY)]
    today = flow.app(apps[-1]).updated_at.date()
    versions = {a: flow.app(a).version for a in apps}
    batch = _commit_and_draw(flow, _batch(flow, today), today)
    assert lottery.verify(draws.published(batch)) == []
    moved = {a: flow.app(a) for a in apps}
    assert sorted(a.stages[0] for a in moved.values()) == ["allocated", "allocated", "waiting"]
    assert all(moved[a].version > versions[a] for a in apps)
    with flow.p.sessions() as s:
        from sqlalchemy import select

        from formflow.db.models import ApplicationStage

        rows = set(s.scalars(select(ApplicationStage.stage).where(ApplicationStage.application_id.in_(apps))))
    assert rows == {"allocated", "waiting"}  # the queue projection moved with them
