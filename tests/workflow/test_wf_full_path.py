"""The whole Meizhou chain, from submission to approval, acted by each role's demo account."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from wf_support import MZ

from formflow.db.models import Notice, StageClock
from formflow.documents.pdf import pdf_text
from support import notice_pdf


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def both(request):
    """The SQLite copy, and a fresh PostgreSQL platform (skipped without a server)."""
    return request.getfixturevalue("flow" if request.param == "sqlite" else "pg_flow")


def test_meizhou_submission_to_approval(both):
    f = both
    app_id = f.create(MZ, today=date(2026, 3, 2))
    app = f.app(app_id)
    assert (app.status, app.stages, app.stage) == ("active", ["community_acceptance"], "community_acceptance")
    assert app.deadline == date(2026, 3, 5)  # 3 working days

    t = f.act(app_id, "community_acceptance", "accept", "mj-community", today=date(2026, 3, 3), mark=True)
    assert t.stages == ("street_review",)
    assert [n.kind for n in t.notices] == ["acceptance"]
    t = f.act(app_id, "street_review", "approve", "mj-street", today=date(2026, 3, 4), mark=True)
    assert t.stages == ("public_notice",)
    assert f.app(app_id).deadline == date(2026, 3, 24)  # 20 calendar days of public notice

    assert f.tick(date(2026, 3, 24)).expired == []  # the 20th day is still inside the notice period
    assert f.tick(date(2026, 3, 25)).expired == [app_id]
    assert f.app(app_id).stages == ["street_forward"]

    f.act(app_id, "street_forward", "forward", "mj-street", today=date(2026, 3, 26))
    chain = [
        ("civil_affairs_review", "mj-civil-affairs", "housing_review"),
        ("housing_review", "mj-housing", "centre_review"),
        ("centre_review", "mj-centre", "section_approval"),
        ("section_approval", "mj-section", "leader_approval"),
        ("leader_approval", "mj-leader", "approved"),
    ]
    for stage, user, nxt in chain:
        t = f.act(app_id, stage, "approve", user, today=date(2026, 3, 27), mark=True)
        assert t.stages == (nxt,), stage

    app = f.app(app_id)
    assert (app.status, app.result, app.stages, app.deadline, app.overdue) == (
        "closed", "approved", ["approved"], None, False)
    assert [n.kind for n in t.notices] == ["eligible"]
    assert f.actions(app_id) == [
        "submit", "accept", "approve", "expire", "forward",
        "approve", "approve", "approve", "approve", "approve",
    ]
    actors = [(e.action, e.actor_role) for e in f.events(app_id) if e.action != "mark"]
    assert actors[1] == ("accept", "community_clerk") and actors[-1] == ("approve", "bureau_leader")
    assert actors[3] == ("expire", None)
    with f.p.sessions() as s:
        clocks = s.scalars(select(StageClock).where(StageClock.application_id == app_id)).all()
        assert clocks and all(c.stopped_on is not None and not c.running for c in clocks)
        commitment = next(c for c in clocks if c.name == "*commitment")
        assert commitment.started_on == date(2026, 3, 3)
        notices = s.scalars(select(Notice).where(Notice.application_id == app_id).order_by(Notice.id)).all()
        assert [n.kind for n in notices] == ["acceptance", "eligible"]
        text = pdf_text(notice_pdf(f.p, notices[-1].id))
        assert notices[-1].title in text and notices[-1].number in text
        assert notices[-1].number == "梅市住保符〔2026〕1号"


def test_version_bumps_once_per_action(flow):
    app_id = flow.create(MZ, today=date(2026, 3, 2))
    before = flow.app(app_id).version
    flow.mark(app_id, "community_acceptance", "mj-community")
    assert flow.app(app_id).version == before  # marking is not a transition
    t = flow.act(app_id, "community_acceptance", "accept", "mj-community", today=date(2026, 3, 3))
    assert t.version == before + 1 == flow.app(app_id).version
