"""Defect 12: a GET never writes. Housing pages and the public waiting list only read; approved
households are filed by `formflow allocation sync` (cron), by the POSTs that need a fresh list
(draw, roster, campaign) and by the housing staff's confirmed "sync now" (a POST)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date

from alloc_support import CALENDAR, FLAT, MATTER, MZ, SUBSIDY, account, alloc, approved, household
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from formflow.allocation import draws, followup
from formflow.allocation import subsidy as subsidy_mod
from formflow.db.models import Household

DAY = date(2026, 4, 15)
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE)\b", re.IGNORECASE)
#: the security log records each export of personal data (issue 12): an audit trail, not a change of state
AUDIT_TRAIL = re.compile(r"^\s*INSERT INTO (security_log|access_records)\b", re.IGNORECASE)
FLATS = "F-101, 江南路1号101, 一室一厅, 40.5, 1, 2\nF-201, 江南路1号201, 两室一厅, 60, 3, 4"
BASE = f"/housing/{MZ}/{MATTER}"
PUBLIC = f"/public/{MZ}/{MATTER}/waiting-list"


@contextmanager
def writes():
    """Every INSERT/UPDATE/DELETE sent to any database (the web app has its own engine) while the block runs."""
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        if WRITE.match(statement) and not AUDIT_TRAIL.match(statement):
            seen.append(statement.split("\n")[0][:120])

    event.listen(Engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", listen)


def _households(p) -> int:
    with p.sessions() as s:
        return s.scalar(select(func.count()).select_from(Household))


def _get_all(clients, paths) -> dict[str, str]:
    pages = {}
    for client, path in ((c, x) for c, xs in zip(clients, paths, strict=True) for x in xs):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        pages[path] = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
    return pages


def test_housing_pages_and_the_public_list_never_write_and_show_data_after_the_sync(site):
    p = site.p
    flat_id = approved(p, on=date(2026, 3, 1), mode=FLAT, size=3, name="陈志强")
    subsidy_id = approved(p, on=date(2026, 3, 2), mode=SUBSIDY, size=2, name="黄晓琳",
                          id_number="441402200105200628", username="mj-citizen-huang")
    staff, citizen, anyone = site.client("mj-housing"), site.client("mj-citizen-chen"), site.client()
    staff_pages = ["/housing/", f"{BASE}/waiting", f"{BASE}/waiting?format=csv", f"{BASE}/waiting?format=xlsx",
                   f"{BASE}/lottery", f"{BASE}/subsidy", f"{BASE}/follow-up", f"/housing/{MZ}/dashboard",
                   f"/housing/{MZ}/dashboard?format=xlsx", f"{BASE}/sync"]
    public_pages = [PUBLIC, f"{PUBLIC}?format=csv", f"{PUBLIC}?format=xlsx"]

    # approved but not yet filed: every GET only reads (the old pages filed both households here)
    with writes() as seen:
        pages = _get_all([staff, citizen, anyone], [staff_pages, ["/housing/mine"], public_pages])
    assert seen == []
    assert _households(p) == 0
    assert "暂无轮候家庭" in pages[f"{BASE}/waiting"] and "陈**" not in pages[PUBLIC]
    assert "确认立即同步" in pages[f"{BASE}/sync"]  # the confirmation, not the sync

    # the staff's confirmed "sync now" (a POST) files them; an unconfirmed POST only asks again
    assert staff.post(f"{BASE}/sync", token_from=f"{BASE}/sync").status_code == 200
    assert _households(p) == 0
    done = staff.post(f"{BASE}/sync", {"confirmed": "1"}, token_from=f"{BASE}/sync", follow_redirects=True)
    assert "已同步：新建保障家庭档案 2 户" in done.get_data(as_text=True)
    flat, sub = household(p, flat_id), household(p, subsidy_id)
    assert flat is not None and sub is not None

    # objects behind the detail pages
    a = alloc(p)
    with p.sessions.begin() as s:
        batch = draws.create_batch(s, a, title="2026年第一批", flats=draws.parse_flats(FLATS), codes=None,
                                   actor=account(p, "mj-housing"), today=DAY)
        draws.commit(s, batch.id, account(p, "mj-housing"))
        batch_id = batch.id
    with p.sessions.begin() as s:
        roster_id = subsidy_mod.build_roster(s, a, "2026-Q2", account(p, "mj-housing"), today=DAY).id
    with p.sessions.begin() as s:
        campaign_id = followup.start_campaign(s, p.packs, a, title="2026年第二季度核查", kind="periodic",
                                              modes=[SUBSIDY], actor=account(p, "mj-housing"), today=DAY,
                                              calendar=CALENDAR).id
    details = [f"/housing/lottery/{batch_id}", f"/housing/lottery/{batch_id}.json", f"/housing/households/{flat.id}",
               f"/housing/subsidy/{roster_id}.xlsx", f"/housing/follow-up/{campaign_id}",
               f"{BASE}/subsidy?period=2026-Q2"]
    public_details = [f"/public/lottery/{batch_id}", f"/public/lottery/{batch_id}.json"]
    with writes() as seen:
        pages = _get_all([staff, citizen, anyone], [staff_pages + details, ["/housing/mine"],
                                                     public_pages + public_details])
    assert seen == []
    assert flat.code in pages[f"{BASE}/waiting"] and "陈**" in pages[PUBLIC] and "陈志强" not in pages[PUBLIC]
    assert flat.code in pages["/housing/mine"] and "进入保障" in pages[f"/housing/households/{flat.id}"]
    assert sub.code in pages[f"/housing/follow-up/{campaign_id}"]


def test_a_citizen_cannot_sync(site):
    approved(site.p, on=date(2026, 3, 1), mode=FLAT)
    citizen = site.client("mj-citizen-chen")
    assert citizen.get(f"{BASE}/sync").status_code == 404
    assert citizen.post(f"{BASE}/sync", {"confirmed": "1"}, token_from="/housing/mine").status_code == 404
    assert _households(site.p) == 0
