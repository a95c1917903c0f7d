"""Follow-up: a campaign's check that stops a subsidy takes the household off the next roster."""

from __future__ import annotations

from datetime import date

from alloc_support import CALENDAR, FLAT, SUBSIDY, account, act, alloc, approved, filed, household, mark
from sqlalchemy import select

from formflow.allocation import followup, register, subsidy
from formflow.db.models import Application, HouseholdCheck, HouseholdEvent, Notice

DAY = date(2026, 4, 15)


def test_a_campaign_that_stops_a_subsidy_removes_the_household_from_the_next_roster(platform_db):
    p = platform_db
    stop_id = approved(p, on=date(2026, 1, 10), mode=SUBSIDY, size=2, area=0)
    keep_id = approved(p, on=date(2026, 1, 12), mode=SUBSIDY, size=3, area=0, name="黄晓琳",
                       id_number="441402200105200628", username="mj-citizen-huang")
    flat_id = approved(p, on=date(2026, 1, 15), mode=FLAT, size=2)
    filed(p, DAY)
    a = alloc(p)
    with p.sessions.begin() as s:
        first = subsidy.build_roster(s, a, "2026-Q2", account(p, "mj-housing"), today=DAY)
        assert len(first.rows) == 2
    with p.sessions.begin() as s:
        campaign = followup.start_campaign(s, p.packs, a, title="2026年第二季度租赁补贴核查", kind="periodic",
                                           modes=[SUBSIDY], actor=account(p, "mj-housing"), today=DAY,
                                           calendar=CALENDAR)
        campaign_id = campaign.id
    with p.sessions() as s:
        checks = {c.household_id: c.application_id for c in
                  s.scalars(select(HouseholdCheck).where(HouseholdCheck.campaign_id == campaign_id))}
        apps = {i: s.get(Application, i) for i in checks.values()}
    stop_h, keep_h = household(p, stop_id), household(p, keep_id)
    assert set(checks) == {stop_h.id, keep_h.id}  # the flat household is not in a subsidy campaign
    assert all(x.matter == "subsidy-follow-up" and x.stages == ["verification"] for x in apps.values())

    # the configured workflow: supervision table, then its actions and notice
    mark(p, checks[stop_h.id], "verification", "mj-housing", verdict="fail")
    act(p, checks[stop_h.id], "verification", "stop_subsidy", "mj-housing", today=DAY, note="家庭收入已超标")
    mark(p, checks[keep_h.id], "verification", "mj-housing")
    act(p, checks[keep_h.id], "verification", "continue", "mj-housing", today=DAY)
    with p.sessions() as s:
        notice = s.scalar(select(Notice).where(Notice.application_id == checks[stop_h.id]))
    assert notice is not None and notice.kind == "subsidy-stop"

    report = register.sync(p.sessions, p.packs, today=DAY)
    assert len(report.applied) == 2
    assert household(p, stop_id).status == "stopped"
    assert household(p, keep_id).status == "subsidised"
    assert household(p, flat_id).status == "waiting"
    with p.sessions() as s:
        stop_events = [e.action for e in s.scalars(select(HouseholdEvent).where(
            HouseholdEvent.household_id == stop_h.id).order_by(HouseholdEvent.id))]
    assert stop_events[-1] == "subsidy_stopped" and "check_started" in stop_events
    assert register.sync(p.sessions, p.packs, today=DAY).applied == []  # idempotent

    with p.sessions.begin() as s:
        following = subsidy.build_roster(s, a, "2026-Q3", account(p, "mj-housing"), today=date(2026, 7, 2))
        assert [r["code"] for r in following.rows] == [keep_h.code]


def test_flat_households_are_checked_by_the_centre_and_may_be_recovered(sqlite_platform):
    p = sqlite_platform
    app_id = approved(p, on=date(2026, 1, 10), mode=FLAT, size=2)
    filed(p, DAY)
    with p.sessions.begin() as s:
        h = s.get(register.Household, household(p, app_id).id)
        h.flat, h.since = {"code": "F-1"}, DAY
        register.record(s, h, "offer_accepted", None, to="housed")
    with p.sessions.begin() as s:
        campaign = followup.start_campaign(s, p.packs, alloc(p), title="不定期核查", kind="ad_hoc", modes=[FLAT],
                                           actor=account(p, "mj-centre"), today=DAY, calendar=CALENDAR)
        check = s.scalar(select(HouseholdCheck).where(HouseholdCheck.campaign_id == campaign.id))
        check_app = check.application_id
    act(p, check_app, "verification", "recover_flat", "mj-centre", today=DAY, note="已购买其他住房")
    register.sync(p.sessions, p.packs, today=DAY)
    assert household(p, app_id).status == "recovered"


def test_a_household_files_a_change_report_from_its_archive(site):
    p = site.p
    app_id = approved(p, on=date(2026, 1, 10), mode=SUBSIDY, size=2)
    filed(p, DAY)
    h = household(p, app_id)
    citizen = site.client("mj-citizen-chen")
    page = citizen.get("/housing/mine").get_data(as_text=True)
    assert h.code in page and "申报家庭情况变动" in page
    response = citizen.post(f"/housing/mine/{h.id}/report", token_from="/housing/mine")
    assert response.status_code == 302 and "/step/" in response.headers["Location"]
    with p.sessions() as s:
        check = s.scalar(select(HouseholdCheck).where(HouseholdCheck.household_id == h.id))
        draft = s.get(Application, check.application_id)
    assert check.trigger == "report" and draft.matter == "subsidy-follow-up" and draft.status == "draft"
    assert draft.data["household"]["archive_no"] == h.code
    assert citizen.get(response.headers["Location"]).status_code == 200
    # someone else's household is not theirs to report on
    other = site.client("mj-citizen-huang")
    assert other.post(f"/housing/mine/{h.id}/report", token_from="/housing/mine").status_code == 404
