"""Need to know: a higher office reads an application from the day it reaches one of its stages, not before."""

from __future__ import annotations

from datetime import date

from wf_support import MZ, drive

from formflow.reviews.queue import in_reach, reach_of

START = date(2026, 3, 2)


def _reads(flow, username: str, app_id: int) -> bool:
    with flow.p.sessions() as s:
        account = flow.account(username)
        return in_reach(s, app_id, reach_of(s, account.id, flow.packs))


def test_the_city_offices_read_an_application_only_once_it_reaches_them(flow):
    app_id = flow.create(MZ, today=START)
    assert _reads(flow, "mj-community", app_id)  # positive control: the office it is at
    for higher in ("mj-street", "mj-civil-affairs", "mj-centre", "mj-leader"):
        assert not _reads(flow, higher, app_id), higher  # still at the community: nobody above reads it
    drive(flow, app_id, MZ, "civil_affairs_review", START)
    assert _reads(flow, "mj-street", app_id) and _reads(flow, "mj-civil-affairs", app_id)
    assert not _reads(flow, "mj-leader", app_id)


def test_the_leader_reads_it_at_the_leader_stage(flow):
    app_id = flow.create(MZ, today=START)
    drive(flow, app_id, MZ, "section_approval", START)
    assert not _reads(flow, "mj-leader", app_id)
    flow.act(app_id, "section_approval", "approve", "mj-section", today=flow.app(app_id).deadline, mark=True)
    assert "leader_approval" in flow.app(app_id).stages
    assert _reads(flow, "mj-leader", app_id)
    # and the offices it has left keep reading its history
    assert _reads(flow, "mj-community", app_id) and _reads(flow, "mj-street", app_id)
