"""Flask test-client tests of the portal pages (no JavaScript: plain POSTs)."""

from __future__ import annotations

import re

import pytest
from portal_files import attach_fixture_files
from sqlalchemy import select

from formflow.db.models import Application, Consent, Event

JX = "/portal/jiangxi/public-rental-housing"
MZ = "/portal/meizhou-meijiang/public-rental-housing"


def _csrf(web, path):
    page = web.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def _post(web, path, data, page=None, **kw):
    data = dict(data)
    data["csrf_token"] = _csrf(web, page or path)
    return web.client.post(path, data=data, **kw)


def _sign_in_verified(web, username, name, id_number, base=JX):
    assert web.login(username).status_code == 302
    r = _post(web, "/auth/verify?next=/portal/", {"consent": "yes", "name": name, "id_number": id_number},
              page="/auth/verify")
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]


def _journey_to_wizard(web, base, office_pick=0):
    r = _post(web, base + "/consent", {"decision": "accept"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/region")
    page = web.get(base + "/region").get_data(as_text=True)
    offices = re.findall(r'<option value="([^"]+)"', page)
    office = offices[office_pick]
    r = _post(web, base + "/region", {"office": office})
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    while 'id="region-narrow"' in body:  # a city: narrow down to the level that accepts applications
        office = re.findall(r'<option value="([^"]+)"', body)[0]
        r = _post(web, base + "/region", {"office": office}, page=base + "/region")
        assert r.status_code == 200
        body = r.get_data(as_text=True)
    assert "确认申请区域" in body and "confirm-region" in body  # the second confirmation
    r = _post(web, base + "/region", {"office": office, "confirm": "yes"}, page=base + "/region")
    assert r.status_code == 302 and r.headers["Location"].endswith("/begin")
    r = web.get(base + "/begin")
    assert r.status_code == 302 and "/step/" in r.headers["Location"], r.headers.get("Location")
    return r.headers["Location"]


def test_start_page_shows_guide_and_process(web):
    body = web.get(JX + "/").get_data(as_text=True)
    assert "申请须知" in body and "放弃申请" in body
    assert 'data-stage="acceptance"' in body and "5个工作日" in body
    assert "现在去申请" in body
    body = web.get(MZ + "/").get_data(as_text=True)
    assert "受理范围" in body and "办理流程" in body


def test_consent_decline_ends_politely(web, sqlite_platform):
    web.login("jx-citizen-wangfang")
    body = web.get(JX + "/consent").get_data(as_text=True)
    assert "服务授权隐私协议" in body and "同意授权" in body and "取消授权" in body
    r = _post(web, JX + "/consent", {"decision": "decline"})
    assert r.status_code == 200 and "您已取消授权" in r.get_data(as_text=True)
    with sqlite_platform.sessions() as s:
        row = s.scalar(select(Consent))
        assert (row.accepted, row.agreement_version) == (False, "2024-09")
    # without consent, the region page sends back to the agreement
    assert web.get(JX + "/region").headers["Location"].endswith("/consent")


def test_region_needs_second_confirmation_and_identity(web, sqlite_platform):
    web.login("jx-citizen-wangfang")
    _post(web, JX + "/consent", {"decision": "accept"})
    page = web.get(JX + "/region").get_data(as_text=True)
    office = "360102001"  # the demo street: selectable directly, at the level that accepts
    assert f'<option value="{office}"' in page
    r = _post(web, JX + "/region", {"office": office})
    assert "确认申请区域" in r.get_data(as_text=True) and "重新选择" in r.get_data(as_text=True)
    r = _post(web, JX + "/region", {"office": office, "confirm": "yes"}, page=JX + "/region")
    r = web.get(JX + "/begin")
    assert "/auth/verify" in r.headers["Location"]  # identity verification before the form opens
    with sqlite_platform.sessions() as s:
        assert s.scalar(select(Application)) is None


@pytest.mark.parametrize("base,user,name,idn,steps", [
    (JX, "jx-citizen-wangfang", "王芳", "36010219950410004X", ["category", "members", "assets", "materials"]),
    (MZ, "mz-citizen", None, None, ["category", "members", "housing", "assets", "materials"]),
])
def test_wizard_steps_render_for_both_packs(web, sqlite_platform, base, user, name, idn, steps):
    if name is None:
        import yaml

        from support import ROOT
        demo = yaml.safe_load((ROOT / "seeds/meizhou-meijiang/demo.yaml").read_text(encoding="utf-8"))
        acc = next(a for a in demo["accounts"] if any(r["role"] == "citizen" for r in a["roles"]))
        user, name, idn = acc["username"], acc["name"], acc["id_number"]
    _sign_in_verified(web, user, name, idn, base)
    location = _journey_to_wizard(web, base)
    app_id = int(re.search(r"/applications/(\d+)/", location).group(1))
    for step in steps:
        r = web.get(f"/portal/applications/{app_id}/step/{step}")
        assert r.status_code == 200, step
        body = r.get_data(as_text=True)
        assert f'data-step="{step}"' in body
        assert "暂存" in body
        assert ("提交申请" if step == steps[-1] else "下一步") in body
        assert 'name="csrf_token"' in body and "<script>" not in body
        for label_for in re.findall(r'<label for="([^"]+)"', body):
            assert f'id="{label_for}"' in body, label_for


def test_no_js_post_flow(web, sqlite_platform):
    _sign_in_verified(web, "jx-citizen-wangfang", "王芳", "36010219950410004X")
    location = _journey_to_wizard(web, JX)
    app_id = int(re.search(r"/applications/(\d+)/", location).group(1))
    step_url = f"/portal/applications/{app_id}/step/category"

    def version():
        with sqlite_platform.sessions() as s:
            return str(s.get(Application, app_id).version)

    # 下一步 with nothing chosen: errors of this step only, next to the field and in the summary
    r = _post(web, step_url, {"_action": "next", "_version": version(), "category.guarantee_mode": "",
                              "category.applicant_category": ""})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="error-summary"' in body
    assert re.search(r'aria-describedby="[^"]*f-category-applicant_category-error', body)
    assert 'id="f-category-applicant_category-error"' in body
    # 暂存 keeps the input
    r = _post(web, step_url, {"_action": "save", "_version": version(), "category.guarantee_mode": "rent_subsidy",
                              "category.applicant_category": ""}, page=step_url)
    assert r.status_code == 302
    with sqlite_platform.sessions() as s:
        assert s.get(Application, app_id).data["category"] == {"guarantee_mode": "rent_subsidy"}
    # a stale version (another tab saved meanwhile): refused, nothing lost on the page
    r = _post(web, step_url, {"_action": "save", "_version": "1", "category.guarantee_mode": "rental_in_kind",
                              "category.applicant_category": "urban-subsistence"}, page=step_url)
    body = r.get_data(as_text=True)
    assert r.status_code == 409 and "其他页面或设备" in body
    assert re.search(r'value="urban-subsistence" selected', body)
    # 下一步 with a valid step moves on
    r = _post(web, step_url, {"_action": "next", "_version": version(), "category.guarantee_mode": "rental_in_kind",
                              "category.applicant_category": "urban-low-income"}, page=step_url)
    assert r.status_code == 302 and r.headers["Location"].endswith("/step/members")
    members_url = f"/portal/applications/{app_id}/step/members"
    # married → the spouse requirement shows on the co-applicants group
    r = _post(web, members_url, {"_action": "next", "_version": version(),
                                 "members.applicant.basic.marital_status": "married"}, page=members_url)
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "共同申请人" in body
    # add a repeatable group member, then remove it (no JS: the server re-renders)
    r = _post(web, members_url, {"_action": "add:members.co_applicants", "_version": version(),
                                 "members.co_applicants.__count": "0"}, page=members_url)
    assert r.status_code == 302
    body = web.get(members_url).get_data(as_text=True)
    assert 'name="members.co_applicants.0.relation"' in body
    r = _post(web, members_url, {"_action": "remove:members.co_applicants.0", "_version": version(),
                                 "members.co_applicants.__count": "1"}, page=members_url)
    body = web.get(members_url).get_data(as_text=True)
    assert 'name="members.co_applicants.0.relation"' not in body
    # 上一步 never loses input
    r = _post(web, members_url, {"_action": "prev", "_version": version(),
                                 "members.applicant.basic.name": "王芳"}, page=members_url)
    assert r.headers["Location"].endswith("/step/category")
    with sqlite_platform.sessions() as s:
        app = s.get(Application, app_id)
        assert app.data["members"]["applicant"]["basic"]["name"] == "王芳"
        assert app.data["members"]["applicant"]["basic"]["marital_status"] == "married"
        assert {"draft_saved"} <= set(s.scalars(select(Event.action).where(Event.application_id == app_id)))


def test_fragment_decides_conditions_on_the_server(web, sqlite_platform):
    _sign_in_verified(web, "jx-citizen-wangfang", "王芳", "36010219950410004X")
    location = _journey_to_wizard(web, JX)
    app_id = int(re.search(r"/applications/(\d+)/", location).group(1))
    assets = f"/portal/applications/{app_id}/step/assets"
    body = web.get(assets).get_data(as_text=True)
    assert "添加车辆" not in body
    r = _post(web, assets + "/fragment", {"assets.has_vehicle": "true"}, page=assets)
    assert r.status_code == 200 and "添加车辆" in r.get_data(as_text=True)
    assert "<html" not in r.get_data(as_text=True)


def test_my_applications_and_withdraw_page(web, sqlite_platform):
    _sign_in_verified(web, "jx-citizen-wangfang", "王芳", "36010219950410004X")
    location = _journey_to_wizard(web, JX)
    app_id = int(re.search(r"/applications/(\d+)/", location).group(1))
    body = web.get("/portal/my").get_data(as_text=True)
    assert "草稿" in body and "继续填写" in body
    body = web.get(f"/portal/applications/{app_id}/withdraw").get_data(as_text=True)
    assert "不能恢复" in body or "将全部撤回" in body
    r = _post(web, f"/portal/applications/{app_id}/withdraw", {"confirm": "yes"},
              page=f"/portal/applications/{app_id}/withdraw")
    assert r.status_code == 302
    with sqlite_platform.sessions() as s:
        assert s.get(Application, app_id).status == "closed"


def test_confirm_and_submit_twice_makes_one_application(web, sqlite_platform, jiangxi_ok):
    from formflow.applications import drafts as apps
    from formflow.db.models import Account

    _sign_in_verified(web, "jx-citizen-wangfang", "王芳", "36010219950410004X")
    location = _journey_to_wizard(web, JX)
    app_id = int(re.search(r"/applications/(\d+)/", location).group(1))
    with sqlite_platform.sessions.begin() as s:
        acc = s.scalar(select(Account).where(Account.username == "jx-citizen-wangfang"))
        app = s.get(Application, app_id)
        attach_fixture_files(s, sqlite_platform.storage, app_id)
        apps.save_draft(s, app_id, jiangxi_ok, actor=acc, expected_version=app.version)
    body = web.get(f"/portal/applications/{app_id}/confirm").get_data(as_text=True)
    assert "再次检查" in body and "直接提交" in body and "资格预检" in body
    assert 'data-condition-id="income"' in body
    token = re.search(r'name="_token" value="([^"]+)"', body).group(1)
    version = re.search(r'name="_version" value="(\d+)"', body).group(1)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', body).group(1)
    data = {"_token": token, "_version": version, "csrf_token": csrf}
    first = web.client.post(f"/portal/applications/{app_id}/submit", data=data)
    second = web.client.post(f"/portal/applications/{app_id}/submit", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"] == f"/portal/applications/{app_id}"
    with sqlite_platform.sessions() as s:
        assert s.get(Application, app_id).status == "active"
        assert len(s.scalars(select(Event).where(Event.application_id == app_id,
                                                 Event.action == "submit")).all()) == 1
    body = web.get(f"/portal/applications/{app_id}").get_data(as_text=True)
    assert "办理进度" in body and "提交申请" in body and 'id="current-stage"' in body
    assert "放弃申请" in body


def test_window_clerk_applies_for_a_citizen(web, sqlite_platform):
    from formflow.db.models import Account

    web.login("jx-window-clerk")
    page = web.get("/portal/window")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    office = re.search(r'<option value="([^"]+)" data-pack="jiangxi"', body).group(1)
    r = _post(web, "/portal/window", {"matter": "jiangxi/public-rental-housing", "office": office,
                                      "name": "赵新", "id_number": "360102199001010010", "consent": "yes",
                                      "channel": "hall"})
    assert r.status_code == 400 and "校验位" in r.get_data(as_text=True)
    from formflow.forms.formats import id_card_check_digit
    number = "36010219900101001" + id_card_check_digit("36010219900101001")
    r = _post(web, "/portal/window", {"matter": "jiangxi/public-rental-housing", "office": office,
                                      "name": "赵新", "id_number": number, "consent": "yes", "channel": "hall"})
    assert r.status_code == 302 and "started=" in r.headers["Location"]
    started = web.get(r.headers["Location"]).get_data(as_text=True)
    step = re.search(r'id="w-continue" href="([^"]+)"', started).group(1)
    assert "/step/" in step
    with sqlite_platform.sessions() as s:
        app = s.scalar(select(Application))
        clerk = s.scalar(select(Account).where(Account.username == "jx-window-clerk"))
        citizen = s.get(Account, app.applicant_id)
        assert (app.channel, app.assisted_by_id) == ("hall", clerk.id)
        assert citizen.id_number_hash == sqlite_platform.keys.lookup(number)
    assert web.get(step).status_code == 200
    # a citizen cannot open the clerk's page
    web.client.post("/auth/logout", data={"csrf_token": _csrf(web, "/portal/")})
    web.login("jx-citizen-wangfang")
    assert web.get("/portal/window").status_code == 404


def test_upload_in_materials_step_and_letter_pdf(web, sqlite_platform):
    import io

    from PIL import Image

    from formflow.db.models import ApplicationFile

    _sign_in_verified(web, "jx-citizen-wangfang", "王芳", "36010219950410004X")
    location = _journey_to_wizard(web, JX)
    app_id = int(re.search(r"/applications/(\d+)/", location).group(1))
    url = f"/portal/applications/{app_id}/step/materials"
    body = web.get(url).get_data(as_text=True)
    assert "重新获取" in body  # e-licence items were fetched, with the refresh button
    with sqlite_platform.sessions() as s:
        app = s.get(Application, app_id)
        assert app.data["materials"]["id_card"]["name"] == "王芳"
        version = app.version
    png = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(png, format="PNG")
    data = {"_action": "upload", "_version": str(version), "csrf_token": _csrf(web, url),
            "file:materials.uploads.income_certificate": (io.BytesIO(png.getvalue()), "收入.png")}
    r = web.client.post(url, data=data, content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)[-1500:]
    with sqlite_platform.sessions() as s:
        app = s.get(Application, app_id)
        files = app.data["materials"]["uploads"]["income_certificate"]
        assert files[0]["media_type"] == "image/png"
        assert s.scalar(select(ApplicationFile)).material == "income_certificate"
    body = web.get(url).get_data(as_text=True)
    assert "收入.png" in body
    r = web.get(f"/portal/applications/{app_id}/authorization-letter.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")


def test_region_narrows_down_to_the_level_that_accepts(web, sqlite_platform):
    """Jiangxi citizens pick a city (as the guide shows); acceptance is a street's: they narrow down."""
    _sign_in_verified(web, "jx-citizen-wangfang", "王芳", "36010219950410004X")
    _post(web, JX + "/consent", {"decision": "accept"})
    r = _post(web, JX + "/region", {"office": "360100"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="region-narrow"' in body and "确认申请区域" not in body
    r = _post(web, JX + "/region", {"office": "360300"}, page=JX + "/region")
    assert r.status_code == 400 and "暂未开通网上受理" in r.get_data(as_text=True)
    r = _post(web, JX + "/region", {"office": "441402"}, page=JX + "/region")
    assert r.status_code == 400, "an office of another pack is not selectable"
