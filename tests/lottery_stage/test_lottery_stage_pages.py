"""The housing lottery pages draw among the applications at a lottery stage ("from the workflow stage")."""

from __future__ import annotations

import re
from datetime import date

from ls_support import FLATS, WORKFLOW, at_lottery, number, with_lottery_stage
from wf_support import Flow

from formflow.allocation import lottery

DAY = date(2026, 3, 2)
LIST = "/housing/meizhou-meijiang/public-rental-housing/lottery"


def _site(edited, wf_sqlite, calendar):
    from support import WebClient, make_web_app

    edited.edit(WORKFLOW, with_lottery_stage)
    wf_sqlite.packs = edited.load()
    flow = Flow(wf_sqlite, calendar, packs=wf_sqlite.packs)
    app = make_web_app(wf_sqlite)
    if "housing" not in app.blueprints:
        from formflow.web import housing

        app.register_blueprint(housing.bp)

    def client(username: str | None = None) -> WebClient:
        c = WebClient(app)
        if username:
            assert c.login(username).status_code == 302
        return c
    return flow, app, client


def test_staff_with_the_lottery_role_draw_a_stage_batch_on_the_lottery_pages(edited, wf_sqlite, calendar):
    flow, app, client = _site(edited, wf_sqlite, calendar)
    apps = [at_lottery(flow, 2, DAY), at_lottery(flow, 3, DAY), at_lottery(flow, 4, DAY)]
    app.extensions["formflow.services"].clock.fixed_today = flow.app(apps[-1]).updated_at.date()
    housing = client("mj-housing")
    page = housing.get(LIST).get_data(as_text=True)
    assert 'value="lottery"' in page and "流程环节“抽签配租”中的申请" in page

    created = housing.post(LIST, {"title": "2026年第一批", "flats": FLATS, "source": "lottery"}, token_from=LIST)
    assert created.status_code == 302, created.get_data(as_text=True)[:500]
    batch_page = created.headers["Location"]
    batch_id = int(re.search(r"/lottery/(\d+)", batch_page).group(1))
    page = housing.get(batch_page).get_data(as_text=True)
    assert "参加抽签的对象：流程环节“抽签配租”中的申请" in page
    assert all(number(flow, a) in page for a in apps)

    assert housing.post(f"/housing/lottery/{batch_id}/commit", token_from=batch_page).status_code == 302
    assert housing.post(f"/housing/lottery/{batch_id}/draw", {"witness": "07 19"},
                        token_from=batch_page).status_code == 302
    doc = client().get(f"/public/lottery/{batch_id}.json").get_json()
    assert lottery.verify(doc) == [] and doc["witness"] == "07 19"
    won = {r["entrant"] for r in doc["result"] if r["flat"]}
    assert len(won) == 2
    for app_id in apps:
        assert flow.app(app_id).stages == (["allocated"] if number(flow, app_id) in won else ["waiting"])
    result = housing.get(batch_page).get_data(as_text=True)
    assert "签订租赁合同" in result and "继续轮候" in result  # each entrant's stage now


def test_the_stage_source_needs_applications_at_the_stage(edited, wf_sqlite, calendar):
    _flow, _app, client = _site(edited, wf_sqlite, calendar)
    housing = client("mj-housing")
    page = housing.post(LIST, {"title": "空批次", "flats": FLATS, "source": "lottery"}, token_from=LIST,
                        follow_redirects=True).get_data(as_text=True)
    assert "在该环节等候的申请中，没有适配这些房源的家庭" in page


def test_the_lottery_pages_stay_closed_to_others(edited, wf_sqlite, calendar):
    _flow, _app, client = _site(edited, wf_sqlite, calendar)
    assert client("mj-citizen-chen").get(LIST).status_code == 404
    assert client("mj-street").post(LIST, {"flats": FLATS, "source": "lottery"}).status_code in (400, 404)


def test_the_desk_and_the_portal_show_the_draw(edited, wf_sqlite, calendar):
    flow, app, client = _site(edited, wf_sqlite, calendar)
    app_id = at_lottery(flow, 2, DAY)
    waiting = client("mj-housing").get(f"/desk/applications/{app_id}")
    assert waiting.status_code == 200 and "抽签配租" in waiting.get_data(as_text=True)
    app.extensions["formflow.services"].clock.fixed_today = flow.app(app_id).updated_at.date()
    housing = client("mj-housing")
    created = housing.post(LIST, {"title": "2026年第一批", "flats": FLATS, "source": "lottery"}, token_from=LIST)
    batch_page = created.headers["Location"]
    batch_id = int(re.search(r"/lottery/(\d+)", batch_page).group(1))
    housing.post(f"/housing/lottery/{batch_id}/commit", token_from=batch_page)
    housing.post(f"/housing/lottery/{batch_id}/draw", token_from=batch_page)
    desk = housing.get(f"/desk/applications/{app_id}").get_data(as_text=True)
    assert "抽签配租：抽中房源" in desk and "江南路1号101" in desk
    portal = client("mj-citizen-chen").get(f"/portal/applications/{app_id}").get_data(as_text=True)
    assert "抽签配租：抽中房源" in portal and "F-101" in portal
