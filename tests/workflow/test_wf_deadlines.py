"""Deadlines in working days across the 2026 National Day holiday and into 2027 (no data: weekends only)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from wf_support import MZ

from formflow.db.models import StageClock


def test_national_day_2026(flow):
    # Wed 30 Sep; 1–7 Oct holiday; Thu 8, Fri 9, Sat 10 (make-up workday)
    app_id = flow.create(MZ, today=date(2026, 9, 30))
    assert flow.app(app_id).deadline == date(2026, 10, 10)


def test_year_boundary_into_2027(flow):
    # Wed 30 Dec 2026: Thu 31, Fri 1 Jan 2027 (no 2027 data: a weekday), Mon 4 Jan
    app_id = flow.create(MZ, today=date(2026, 12, 30))
    assert flow.app(app_id).deadline == date(2027, 1, 4)
    flow.act(app_id, "community_acceptance", "accept", "mj-community", today=date(2026, 12, 31), mark=True)
    with flow.p.sessions() as s:
        commitment = s.scalar(select(StageClock).where(StageClock.application_id == app_id,
                                                       StageClock.name == "*commitment"))
    # 90 working days after Thu 31 Dec 2026, weekends only in 2027: Fri 1 Jan + 18 weeks − 1 day
    assert commitment.due_on == date(2027, 5, 6)


def test_overdue_is_marked_once_by_tick(flow):
    app_id = flow.create(MZ, today=date(2026, 9, 30))
    assert flow.tick(date(2026, 10, 10)).overdue == []
    report = flow.tick(date(2026, 10, 12))
    assert report.overdue == [app_id]
    app = flow.app(app_id)
    assert app.overdue is True and app.deadline == date(2026, 10, 10)
    assert flow.tick(date(2026, 10, 13)).overdue == []
    assert flow.actions(app_id) == ["submit", "overdue"]
    t = flow.act(app_id, "community_acceptance", "accept", "mj-community", today=date(2026, 10, 13), mark=True)
    assert flow.app(app_id).overdue is False and t.stages == ("street_review",)
