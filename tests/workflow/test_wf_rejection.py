"""A rejection needs a reason; the notice PDF carries title, number and reason."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from wf_support import MZ

from formflow.db.models import Notice, StageClock
from formflow.documents.pdf import pdf_text
from formflow.workflow.errors import ReasonRequired
from support import notice_pdf


def test_rejection_with_reason_and_notice(flow):
    app_id = flow.create(MZ, today=date(2026, 3, 2))
    flow.act(app_id, "community_acceptance", "accept", "mj-community", today=date(2026, 3, 2), mark=True)
    with pytest.raises(ReasonRequired, match="action 'reject' at stage 'street_review' requires a reason"):
        flow.act(app_id, "street_review", "reject", "mj-street", today=date(2026, 3, 3), note="  ")
    reason = "家庭人均收入高于本市中等偏下收入标准"
    t = flow.act(app_id, "street_review", "reject", "mj-street", today=date(2026, 3, 3), note=reason)
    assert (t.status, t.result, t.stages, t.deadline) == ("closed", "rejected", ("rejected",), None)
    [notice] = t.notices
    with flow.p.sessions() as s:
        row = s.get(Notice, notice.id)
        assert (row.kind, row.year, row.seq) == ("ineligible-street", 2026, 1)
        assert row.event_id == t.event_id
        clocks = s.scalars(select(StageClock).where(StageClock.application_id == app_id)).all()
        assert {c.name: c.stopped_on for c in clocks} == {
            "community_acceptance": date(2026, 3, 2), "*commitment": date(2026, 3, 3)}
    text = pdf_text(notice_pdf(flow.p, notice.id))
    assert "不符合住房保障条件通知书" in text
    assert notice.number == "梅江街住保不符〔2026〕1号" and notice.number in text
    assert reason in text.replace("\n", "")
    assert "金山街道" in text  # the acting office signs it
    event = flow.events(app_id)[-1]
    assert (event.action, event.actor_role, event.note, event.from_stage, event.to_stage) == (
        "reject", "street_reviewer", reason, "street_review", "rejected")


def test_numbers_run_on_without_gaps(flow):
    numbers = []
    for _ in range(3):
        app_id = flow.create(MZ, today=date(2026, 3, 2))
        t = flow.act(app_id, "community_acceptance", "reject", "mj-community", today=date(2026, 3, 2), note="x")
        numbers.append(t.notices[0].number)
    app_id = flow.create(MZ, today=date(2026, 3, 2))
    with pytest.raises(RuntimeError), flow.p.sessions.begin() as s:  # a failed action gives its number back
        from formflow.documents.notices import next_seq

        assert next_seq(s, MZ, "non-acceptance", 2026) == 4
        raise RuntimeError("rolled back")
    t = flow.act(app_id, "community_acceptance", "reject", "mj-community", today=date(2027, 1, 4), note="x")
    numbers.append(t.notices[0].number)
    t = flow.act(flow.create(MZ, today=date(2026, 3, 2)), "community_acceptance", "reject", "mj-community",
                 today=date(2026, 12, 31), note="x")
    numbers.append(t.notices[0].number)
    assert numbers == [f"梅江公租不受〔2026〕{i}号" for i in (1, 2, 3)] + [
        "梅江公租不受〔2027〕1号", "梅江公租不受〔2026〕4号"]
