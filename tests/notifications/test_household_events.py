"""Household events after approval (waiting list, lottery, subsidy) tell the household, in the same transaction."""

from __future__ import annotations

from datetime import date

import pytest
from alloc_support import FLAT, SUBSIDY, account, alloc, approved, filed, household
from notes import kinds, messages, sms

from formflow.allocation import draws, register
from formflow.db.models import Household, Message

DAY = date(2026, 4, 15)
FLATS = "F-101, 江南路1号101, 一室一厅, 40.5, 1, 4"


@pytest.fixture
def p(sqlite_platform, installed):
    installed(sqlite_platform.packs)
    return sqlite_platform


def test_placed_on_the_waiting_list_and_the_lottery_result(p):
    app_id = approved(p, on=date(2026, 3, 2), mode=FLAT, size=2)
    subsidised = approved(p, on=date(2026, 3, 3), mode=SUBSIDY, size=2, name="黄晓琳",
                          id_number="441402200105200628", username="mj-citizen-huang")
    filed(p, DAY)
    # the shortcut's approval event tells "approved"; filing the household tells "waiting list"
    assert kinds(p, "mj-citizen-chen") == ["approved", "waiting_list"]
    assert kinds(p, "mj-citizen-huang") == ["approved"]  # a subsidy household is not on the waiting list
    waiting = messages(p, "mj-citizen-chen")[-1]
    assert waiting.application_id == app_id and waiting.content["body"].startswith("陈**，您家庭已列入")
    assert household(p, subsidised).status == "subsidised"

    a = alloc(p)
    with p.sessions.begin() as s:
        batch = draws.create_batch(s, a, title="2026年第一批", flats=draws.parse_flats(FLATS), codes=None,
                                   actor=account(p, "mj-housing"), today=DAY)
        batch_id = batch.id
    with p.sessions.begin() as s:
        draws.commit(s, batch_id, account(p, "mj-housing"))
    with p.sessions.begin() as s:
        draws.draw(s, batch_id, account(p, "mj-housing"), today=DAY)
    assert household(p, app_id).status == "offered"
    assert kinds(p, "mj-citizen-chen") == ["approved", "waiting_list", "lottery_result"]
    assert [m.payload["message_kind"] for m in sms(p)] == ["approved", "approved", "waiting_list", "lottery_result"]


def test_subsidy_stopped_and_a_rollback_leaves_nothing(p):
    app_id = approved(p, on=date(2026, 3, 2), mode=SUBSIDY, size=2)
    filed(p, DAY)
    h_id = household(p, app_id).id
    with pytest.raises(RuntimeError), p.sessions.begin() as s:
        register.record(s, s.get(Household, h_id), "subsidy_stopped", None, to="stopped")
        assert s.query(Message).filter_by(kind="subsidy_stopped").count() == 1
        raise RuntimeError("the check's outcome could not be applied")
    assert kinds(p, "mj-citizen-chen") == ["approved"] and household(p, app_id).status == "subsidised"
    with p.sessions.begin() as s:
        register.record(s, s.get(Household, h_id), "subsidy_stopped", None, to="stopped")
    assert kinds(p, "mj-citizen-chen") == ["approved", "subsidy_stopped"]
    assert "停止发放租赁补贴" in messages(p, "mj-citizen-chen")[-1].content["body"]
