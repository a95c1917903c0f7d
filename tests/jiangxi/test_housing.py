"""After approval in Jiangxi: the household reaches Jiangxi's waiting list, the Jiangxi housing reviewer works
on /housing, and the public waiting list the home page links answers with names and ID numbers masked."""

from __future__ import annotations

import copy
import importlib.util
import re
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from formflow.allocation.register import sync
from formflow.calendars.workdays import load_calendar
from formflow.db.models import Application, Household

TESTS = Path(__file__).resolve().parents[1]
for folder in ("workflow", "allocation", "portal"):
    if str(TESTS / folder) not in sys.path:
        sys.path.append(str(TESTS / folder))

from alloc_support import web_app  # noqa: E402
from wf_support import JX, Flow, drive  # noqa: E402

from support import WebClient  # noqa: E402

MATTER = "public-rental-housing"
DAY = date(2026, 3, 2)
PUBLIC = f"/public/{JX}/{MATTER}/waiting-list"


def _complete() -> dict:
    """The portal tests' complete Jiangxi data (王芳, 2 people, 实物配租)."""
    spec = importlib.util.spec_from_file_location("jx_portal_data", TESTS / "portal" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return copy.deepcopy(module.JIANGXI_OK)


@pytest.fixture
def approved(sqlite_platform):
    """A Jiangxi application taken through the whole approval chain: registered as a waiting household."""
    flow = Flow(sqlite_platform, load_calendar(sqlite_platform.root / "seeds" / "calendar"))
    app_id = flow.create(JX, today=DAY)
    with sqlite_platform.sessions.begin() as s:
        s.get(Application, app_id).data = _complete()
    day = drive(flow, app_id, JX, "approved", DAY)
    app = flow.app(app_id)
    assert (app.status, app.result) == ("closed", "approved")
    report = sync(sqlite_platform.sessions, sqlite_platform.packs, today=day)
    assert len(report.created) == 1
    return sqlite_platform, app_id, day


def _client(platform, day, username=None):
    c = WebClient(web_app(platform, day))
    if username:
        assert c.login(username).status_code == 302
    return c


def test_an_approved_application_reaches_the_waiting_list(approved):
    platform, app_id, day = approved
    with platform.sessions() as s:
        h = s.scalar(select(Household).where(Household.application_id == app_id))
        assert (h.pack, h.status, h.kind) == (JX, "waiting", "flat")
        assert h.office_path.startswith("/360000/360100/360102/")
    staff = _client(platform, day, "jx-housing-reviewer")
    home = staff.get("/housing/")
    assert home.status_code == 200 and f"/housing/{JX}/{MATTER}/waiting" in home.get_data(as_text=True)
    page = staff.get(f"/housing/{JX}/{MATTER}/waiting")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and h.code in body and "城镇低收入住房困难家庭" in body
    assert staff.get(f"/housing/{JX}/dashboard").status_code == 200
    assert staff.get(f"/housing/{JX}/{MATTER}/subsidy").status_code == 200
    assert staff.get(f"/housing/{JX}/{MATTER}/lottery").status_code == 200
    # a citizen and a reviewer of another part of the chain do not reach the register
    assert _client(platform, day, "jx-citizen-liqiang").get(f"/housing/{JX}/{MATTER}/waiting").status_code == 404
    assert _client(platform, day, "jx-street-clerk").get(f"/housing/{JX}/{MATTER}/waiting").status_code == 404


def test_the_public_waiting_list_the_home_page_links_is_live_and_masked(approved):
    platform, _app_id, day = approved
    anyone = _client(platform, day)
    home = anyone.get("/").get_data(as_text=True)
    assert PUBLIC in home
    r = anyone.get(PUBLIC)
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "江西省公共租赁住房轮候对象登记册" in body
    assert "王*" in body and "王芳" not in body
    assert "36010219950410004X" not in body and "3601**********004X" in body
    assert "城镇低收入住房困难家庭" in body
    csv = anyone.get(PUBLIC + "?format=csv").data.decode("utf-8-sig")
    assert "王芳" not in csv and "36010219950410004X" not in csv and "3601**********004X" in csv


def test_every_waiting_list_the_home_page_links_answers(sqlite_platform):
    anyone = _client(sqlite_platform, DAY)
    links = re.findall(r'href="(/public/[^"]+/waiting-list)"', anyone.get("/").get_data(as_text=True))
    assert PUBLIC in links
    for link in links:
        assert anyone.get(link).status_code == 200, link
