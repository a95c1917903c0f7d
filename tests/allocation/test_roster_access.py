"""A subsidy roster carries full ID numbers: each export is recorded, one record per household it carries."""

from __future__ import annotations

from datetime import date

from alloc_support import SUBSIDY, approved, filed
from sqlalchemy import select

from formflow.allocation import subsidy
from formflow.db.models import AccessRecord


def test_each_roster_export_is_recorded_with_the_households_it_carries(site):
    p = site.p
    apps = [approved(p, on=date(2026, 1, 20), mode=SUBSIDY, size=3, area=12),
            approved(p, on=date(2026, 2, 5), mode=SUBSIDY, size=1, area=0)]
    filed(p, date(2026, 5, 10))
    housing = site.client("mj-housing")
    site.set_today(date(2026, 5, 20))
    page = "/housing/meizhou-meijiang/public-rental-housing/subsidy"
    assert housing.post(page, {"period": "2026-Q2"}, token_from=page).status_code == 302
    with p.sessions() as s:
        roster = s.scalar(select(subsidy.SubsidyRoster).where(subsidy.SubsidyRoster.period == "2026-Q2"))
        assert s.scalar(select(AccessRecord).where(AccessRecord.what.like("roster_export:%"))) is None
    assert housing.get(f"/housing/subsidy/{roster.id}.xlsx").status_code == 200
    with p.sessions() as s:
        records = list(s.scalars(select(AccessRecord).where(AccessRecord.what == f"roster_export:{roster.id}")))
        bureau = p.account("mj-housing")
    app_ids = {a if isinstance(a, int) else a.id for a in apps}
    assert {r.application_id for r in records} == app_ids
    assert {r.account_id for r in records} == {bureau.id}
    housing.get(f"/housing/subsidy/{roster.id}.xlsx")
    with p.sessions() as s:  # a second export is a second set of records
        assert len(list(s.scalars(select(AccessRecord).where(
            AccessRecord.what == f"roster_export:{roster.id}")))) == 2 * len(app_ids)
