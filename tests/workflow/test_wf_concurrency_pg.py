"""PostgreSQL: two reviewers at once → one wins; two ticks at once → each application moved once."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlalchemy import func, select
from wf_support import MZ, drive

from formflow.db.models import Application, Event
from formflow.workflow import engine
from formflow.workflow.errors import StaleApplication
from formflow.workflow.timers import tick

DAY = date(2026, 3, 2)


def _race(n, work):
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_reviewers_at_once_one_wins(pg_flow):
    f = pg_flow
    app_id = f.create(MZ, today=DAY)
    f.mark(app_id, "community_acceptance", "mj-community")
    version = f.app(app_id).version
    clerk = f.account("mj-community")
    moves = [("accept", None), ("reject", "重复申请")]

    def work(i):
        action, note = moves[i]
        with f.p.sessions.begin() as s:
            return engine.perform(s, app_id, stage="community_acceptance", action=action, actor=clerk,
                                  note=note, expected_version=version, calendar=f.calendar, today=DAY,
                                  storage=f.p.storage, renderers=f.renderers)

    results = _race(2, work)
    won = [r for r in results if isinstance(r, engine.Transition)]
    lost = [r for r in results if isinstance(r, StaleApplication)]
    assert len(won) == 1 and len(lost) == 1, results
    assert "已被他人处理" in str(lost[0]) and lost[0].current.version == version + 1
    assert lost[0].current.stages == won[0].stages
    with f.p.sessions() as s:
        n = s.scalar(select(func.count()).select_from(Event).where(
            Event.application_id == app_id, Event.action.in_(["accept", "reject"])))
        assert n == 1
        assert s.get(Application, app_id).version == version + 1


def test_two_ticks_at_once_move_each_application_once(pg_flow):
    f = pg_flow
    apps = [f.create(MZ, today=DAY) for _ in range(4)]
    for app_id in apps:
        drive(f, app_id, MZ, "public_notice", DAY)
    due = max(f.app(a).deadline for a in apps) + timedelta(days=1)
    results = _race(3, lambda i: tick(f.p.sessions, today=due, calendar=f.calendar))
    assert all(not isinstance(r, Exception) for r in results), results
    moved = [a for r in results for a in r.expired]
    assert sorted(moved) == sorted(apps)
    with f.p.sessions() as s:
        for app_id in apps:
            assert s.get(Application, app_id).stages == ["street_forward"]
            assert s.scalar(select(func.count()).select_from(Event).where(
                Event.application_id == app_id, Event.action == "expire")) == 1
