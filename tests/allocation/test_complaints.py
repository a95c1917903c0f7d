"""Complaints and consultations: configuration alone, through the generic portal services and the engine."""

from __future__ import annotations

from datetime import date

from alloc_support import CALENDAR, HOME, MZ, account, act

from formflow.allocation import dashboards
from formflow.applications import drafts as apps
from formflow.db.models import Application

FILED = date(2026, 4, 1)  # a Wednesday


def file_complaint(p, username: str = "mj-citizen-chen") -> int:
    citizen = account(p, username)
    data = {"complaint": {"channel": "web", "subject": "配租房屋漏水未维修", "respondent": "物业服务中心",
                          "facts": "三月起多次报修，至今未处理。", "request": "尽快维修"},
            "contact": {"name": citizen.display_name, "mobile": "13807530001"}}
    with p.sessions.begin() as s:
        draft = apps.start_draft(s, p.packs, applicant=citizen, pack=MZ, matter="complaint", office_id=HOME,
                                 channel="web")
        apps.save_draft(s, draft.id, data, actor=citizen, expected_version=draft.version, today=FILED)
        app = apps.submit(s, draft.id, actor=citizen, expected_version=None, token="t-1", keys=p.keys,
                          today=FILED, calendar=CALENDAR)
        return app.id


def late_ids(p, today: date) -> dict[int, date | None]:
    with p.sessions() as s:
        board = dashboards.build(s, p.packs.packs[MZ], today=today, matters=["complaint"])
    return {x.app_id: x.done_on for x in board.late}


def test_a_complaint_answered_late_is_shown_overdue(site):
    p = site.p
    app_id = file_complaint(p)
    with p.sessions() as s:
        app = s.get(Application, app_id)
        assert (app.status, app.stages) == ("active", ["acknowledgement"])
        assert app.deadline == CALENDAR.add_days(FILED, 3, "working")
    # three working days pass without acknowledgement: shown overdue while still open
    assert late_ids(p, date(2026, 4, 8)) == {app_id: None}
    act(p, app_id, "acknowledgement", "accept", "mj-service", today=date(2026, 4, 8), note="已受理，正在调查")
    act(p, app_id, "handling", "answer", "mj-service", today=date(2026, 4, 30), note="已督促物业维修完毕。")
    with p.sessions() as s:
        app = s.get(Application, app_id)
        assert (app.status, app.result) == ("closed", "answered")
    late = late_ids(p, date(2026, 5, 6))
    assert late[app_id] == date(2026, 4, 30)  # answered after the 15-working-day limit
    manager = site.client("mj-service")
    site.set_today(date(2026, 5, 6))
    page = manager.get("/housing/meizhou-meijiang/dashboard?matter=complaint").get_data(as_text=True)
    assert f'id="late-{app_id}"' in page and "超期办结" in page


def test_a_complaint_answered_in_time_is_not_overdue(sqlite_platform):
    p = sqlite_platform
    app_id = file_complaint(p)
    act(p, app_id, "acknowledgement", "accept", "mj-service", today=date(2026, 4, 2))
    act(p, app_id, "handling", "answer", "mj-service", today=date(2026, 4, 10), note="已处理。")
    assert app_id not in late_ids(p, date(2026, 5, 6))


def test_a_letter_consultation_goes_to_a_written_reply(sqlite_platform):
    p = sqlite_platform
    citizen = account(p, "mj-citizen-huang")
    with p.sessions.begin() as s:
        draft = apps.start_draft(s, p.packs, applicant=citizen, pack=MZ, matter="consultation", office_id=HOME,
                                 channel="web")
        apps.save_draft(s, draft.id, {"consultation": {"channel": "letter", "topic": "申请条件",
                                                       "question": "新就业无房职工毕业几年内可以申请？"},
                                      "contact": {"name": "黄晓琳", "mobile": "13807530002"}},
                        actor=citizen, expected_version=draft.version, today=FILED)
        app_id = apps.submit(s, draft.id, actor=citizen, expected_version=None, token="c-1", keys=p.keys,
                             today=FILED, calendar=CALENDAR).id
    from formflow.workflow.errors import GuardNotMet

    try:
        act(p, app_id, "registration", "answer_on_spot", "mj-service", today=FILED, note="……")
        raise AssertionError("a letter cannot be answered on the spot")
    except GuardNotMet:
        pass
    act(p, app_id, "registration", "written", "mj-service", today=FILED)
    act(p, app_id, "written_reply", "answer", "mj-service", today=date(2026, 4, 9), note="自毕业当月起未满36个月。")
    with p.sessions() as s:
        assert s.get(Application, app_id).result == "answered"


def test_the_portal_offers_the_new_matters(site):
    client = site.client("mj-citizen-chen")
    home = client.get("/portal/").get_data(as_text=True) if client.get("/portal/").status_code == 200 else ""
    for matter in ("complaint", "consultation"):
        assert f"meizhou-meijiang/{matter}" in home
        assert client.get(f"/portal/meizhou-meijiang/{matter}/").status_code == 200
