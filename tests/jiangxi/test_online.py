"""Online acceptance per region: a citizen or a window clerk choosing a Jiangxi region not yet live is told so
at the region choice, and the API answers the documented refusal; nothing is filed."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from contract.start_channels import START_CHANNELS, Env, _csrf
from formflow.db.models import Application
from support import make_web_app

JX = "jiangxi"
BASE = f"/portal/{JX}/public-rental-housing"
NOT_OPEN = "萍乡市暂未开通网上受理，请选择其他区域，或到当地政务服务大厅办理"


@pytest.fixture
def env(sqlite_platform) -> Env:
    return Env(sqlite_platform, make_web_app(sqlite_platform))


@pytest.mark.parametrize("channel", START_CHANNELS, ids=lambda c: c.name)
@pytest.mark.parametrize(("office", "message"), [
    ("360300", NOT_OPEN),  # a city with counties and generated offices, none live
    ("360103", "西湖区暂未开通网上受理，请选择其他区域，或到当地政务服务大厅办理"),  # 南昌市's other district
    ("360103000", "西湖区街道（乡镇）公租房受理窗口暂未开通网上受理，请选择其他区域，或到当地政务服务大厅办理"),
])
def test_a_region_not_yet_live_is_refused_on_every_channel(env, channel, office, message):
    outcome = channel().start(env, JX, office)
    if office == "360300" or channel.name != "portal":
        assert (outcome.ok, outcome.code, outcome.message) == (False, "region_unavailable", message), outcome
    else:  # not offered on the portal at all (only cities and 东湖区's street are): not a valid choice
        assert outcome.ok is False and outcome.code in ("region_unavailable", "region_invalid"), outcome
    with env.p.sessions() as s:
        assert s.scalar(select(Application.id)) is None, "nothing is filed when refused"


@pytest.mark.parametrize("channel", START_CHANNELS, ids=lambda c: c.name)
def test_nanchang_narrows_to_the_live_district_only(env, channel):
    outcome = channel().start(env, JX, "360100")
    assert outcome.ok, outcome
    assert env.app(outcome.app_id).office_id == "360102001"


def _citizen(env):
    web = env.web("jx-citizen-wangfang", verify=("王芳", "36010219950410004X"))
    r = web.client.post(BASE + "/consent", data={"decision": "accept", "csrf_token": _csrf(web, BASE + "/consent")})
    assert r.status_code == 302
    return web


def test_the_region_page_says_which_regions_are_not_open_and_refuses_them(env):
    web = _citizen(env)
    page = web.get(BASE + "/region").get_data(as_text=True)
    assert "江西省 · 萍乡市（暂未开通网上受理）</option>" in page
    assert "江西省 · 南昌市</option>" in page
    r = web.client.post(BASE + "/region", data={"office": "360300", "csrf_token": _csrf(web, BASE + "/region")})
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and NOT_OPEN in body
    r = web.client.post(BASE + "/region", data={"office": "360100", "csrf_token": _csrf(web, BASE + "/region")})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="region-narrow"' in body
    options = re.findall(r'<option value="(\d+)"', body)
    assert options == ["360102"], "only the district where online acceptance is open is offered"


def test_the_window_offers_only_live_regions(env):
    web = env.web("jx-window-clerk")
    page = web.get("/portal/window").get_data(as_text=True)
    offered = set(re.findall(r'<option value="(\d{9})" data-pack="jiangxi"', page))
    assert offered == {"360102001"}


def test_the_api_lists_only_live_localities_and_documents_the_refusal(env):
    api = env.api.client()
    r = api.http.get("/api/v1/matters/jiangxi/public-rental-housing/localities")
    assert r.status_code == 200
    assert [i["id"] for i in r.get_json()["items"]] == ["360102001"]
    doc = api.http.get("/api/v1/openapi.json").get_json()
    described = doc["paths"]["/api/v1/drafts"]["post"]["description"]
    assert "region_unavailable" in described and "尚未开通网上受理" in described
