"""A correction request pauses every clock; the citizen's answer resumes them, deadlines move."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from wf_support import CITIZEN, MZ

from formflow.db.models import Correction, Notice, StageClock
from formflow.documents.pdf import pdf_text
from formflow.workflow import engine
from formflow.workflow.errors import ActionNotAvailable, GuardNotMet
from support import notice_pdf


def test_correction_and_answer_move_the_deadline(flow):
    app_id = flow.create(MZ, today=date(2026, 3, 2))  # Monday
    assert flow.app(app_id).deadline == date(2026, 3, 5)
    t = flow.act(app_id, "community_acceptance", "request_correction", "mj-community", today=date(2026, 3, 3),
                 note="身份证复印件未加盖验证章", materials=["id_card"])
    assert t.stages == ("community_acceptance",) and t.awaiting == "citizen"
    app = flow.app(app_id)
    assert app.deadline is None and app.awaiting == "citizen"  # no clock runs while waiting
    notice = t.notices[0]
    assert notice.kind == "correction" and notice.number == "梅江公租补〔2026〕1号"
    text = pdf_text(notice_pdf(flow.p, notice.id))
    assert "申请人及家庭成员的身份证" in text and "身份证复印件未加盖验证章" in text and notice.number in text

    flow.mark(app_id, "community_acceptance", "mj-community")
    with pytest.raises(GuardNotMet, match="补正"):  # reviewers wait for the citizen
        flow.act(app_id, "community_acceptance", "accept", "mj-community", today=date(2026, 3, 4))
    with flow.p.sessions.begin() as s, pytest.raises(ActionNotAvailable):
        engine.answer_correction(s, app_id, flow.account("mj-community"), expected_version=app.version,
                                 calendar=flow.calendar, today=date(2026, 3, 9))

    with flow.p.sessions.begin() as s:  # the following Monday: Wed, Thu, Fri, Mon paused = 4 working days
        t = engine.answer_correction(s, app_id, flow.account(CITIZEN[MZ]), expected_version=app.version,
                                     note="已补交", calendar=flow.calendar, today=date(2026, 3, 9))
    assert t.awaiting is None and t.version == app.version + 1
    assert flow.app(app_id).deadline == date(2026, 3, 11)  # 03-05 + 4 working days
    with flow.p.sessions() as s:
        correction = s.scalar(select(Correction).where(Correction.application_id == app_id))
        assert (correction.missing, correction.answered_on, correction.answer) == (
            ["id_card"], date(2026, 3, 9), "已补交")
        clock = s.scalar(select(StageClock).where(StageClock.application_id == app_id))
        assert clock.running and clock.paused_on is None and clock.due_on == date(2026, 3, 11)
        assert s.scalar(select(Notice.kind).where(Notice.application_id == app_id)) == "correction"
    t = flow.act(app_id, "community_acceptance", "accept", "mj-community", today=date(2026, 3, 10))
    assert t.stages == ("street_review",)
    assert flow.actions(app_id) == ["submit", "request_correction", "answer_correction", "accept"]
    paused = [e for e in flow.events(app_id) if e.action == "request_correction"][0]
    assert paused.details["paused"] == ["community_acceptance"] and paused.details["materials"] == ["id_card"]


def test_correction_pauses_the_commitment_clock_too(flow):
    app_id = flow.create(MZ, today=date(2026, 3, 2))
    flow.act(app_id, "community_acceptance", "accept", "mj-community", today=date(2026, 3, 2), mark=True)
    t = flow.act(app_id, "street_review", "request_correction", "mj-street", today=date(2026, 3, 2), note="补收入证明")
    with flow.p.sessions() as s:
        commitment = s.scalar(select(StageClock).where(StageClock.application_id == app_id,
                                                       StageClock.name == "*commitment"))
        due = commitment.due_on
        assert not commitment.running and commitment.paused_on == date(2026, 3, 2)
    with flow.p.sessions.begin() as s:  # paused over two calendar weeks = 10 working days
        engine.answer_correction(s, app_id, flow.account(CITIZEN[MZ]), expected_version=t.version,
                                 calendar=flow.calendar, today=date(2026, 3, 16))
    with flow.p.sessions() as s:
        commitment = s.get(StageClock, commitment.id)
        assert commitment.running and commitment.due_on == flow.calendar.add_days(due, 10, "working")
