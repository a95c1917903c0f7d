"""START contract: starting an application and saving a step give the same outcome on every channel.

Defects covered: 1 (the window and the API filed Jiangxi applications at a city, where no reviewer
sees them), 2 (the verified applicant's name and ID number could be changed into someone else's),
11 (e-licence fetches were not recorded; the window showed them unmasked, for any locality).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from contract.start_channels import CITIZENS, SAVE_CHANNELS, START_CHANNELS, Env, node_id
from formflow.db.models import AccessRecord, Account, Application, Office
from support import make_web_app

JX, MZ = "jiangxi", "meizhou-meijiang"
PREFILLED = [("elicence_fetch:idcard:prefill", "who"), ("elicence_fetch:hukou:prefill", "who")]


@pytest.fixture
def env(sqlite_platform) -> Env:
    return Env(sqlite_platform, make_web_app(sqlite_platform))


def _second_street(env: Env) -> None:
    """A second street under 东湖区: 南昌市 can no longer be narrowed down unambiguously."""
    with env.p.sessions.begin() as s:
        first = s.get(Office, "360102001")
        s.add(Office(id="360102002", pack=JX, name="东湖区第二街道办事处", kind="street", level="street",
                     parent_id="360102", region_code="360102002", path=first.path.replace("360102001", "360102002"),
                     selectable=False))


# (scenario, pack, office chosen, setup, expected: office filed at | (code, message))
START = [
    ("city narrowed to the street that accepts", JX, "360100", None, "360102001"),
    ("street chosen directly", JX, "360102001", None, "360102001"),
    ("community of Meizhou", MZ, "441402001001", None, "441402001001"),
    ("city with no office", JX, "360300", None,
     ("region_unavailable", "萍乡市暂未开通网上受理，请选择其他区域，或到当地政务服务大厅办理")),
    ("region of another pack", JX, "441402001001", None, ("region_invalid", "请选择有效的申请区域")),
    ("city with two streets", JX, "360100", _second_street,
     ("region_too_broad", "东湖区下有多个受理区域，请选择下一级申请区域")),
]


@pytest.mark.parametrize("channel", START_CHANNELS, ids=lambda c: c.name)
@pytest.mark.parametrize(("scenario", "pack", "office", "setup", "expected"), START, ids=[s[0] for s in START])
def test_start_application(env, channel, scenario, pack, office, setup, expected):
    if setup:
        setup(env)
    outcome = channel().start(env, pack, office)
    if isinstance(expected, tuple):
        assert (outcome.ok, outcome.code, outcome.message) == (False, *expected), outcome
        with env.p.sessions() as s:
            assert s.scalar(select(Application.id)) is None, "nothing is filed when refused"
        return
    assert outcome.ok, outcome
    app = env.app(outcome.app_id)
    assert app.office_id == expected and app.status == "draft"
    # the bound identity and the prefilled e-licences, every fetch recorded by whoever started it
    _user, name, number = CITIZENS[pack]
    who = "clerk" if channel.name == "window" else "applicant"
    assert env.access(app.id) == [(what, who) for what, _ in PREFILLED]
    if pack == MZ:
        assert app.data["members"]["applicant"]["id_number"] == number
        assert app.data["members"]["applicant"]["name"] == name
    else:
        assert app.data["materials"]["id_card"]["id_number"] == number


def _jiangxi_complete() -> dict:
    """The portal tests' complete Jiangxi data (tests/portal/conftest.py), for 王芳."""
    import copy
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "portal" / "conftest.py"
    spec = importlib.util.spec_from_file_location("portal_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return copy.deepcopy(module.JIANGXI_OK)


def test_city_application_reaches_the_street_reviewer(env):
    """Defect 1: filed at 南昌市 through the window and submitted, the street clerk can open it."""
    from datetime import date

    from contract.start_channels import Window
    from formflow.applications import drafts as apps
    from formflow.calendars.workdays import load_calendar

    outcome = Window().start(env, JX, "360100")
    assert outcome.ok, outcome
    from portal_files import attach_fixture_files

    import contract.files_channels  # noqa: F401  (puts tests/portal on the path)

    with env.p.sessions.begin() as s:
        attach_fixture_files(s, env.p.storage, outcome.app_id)
        app = s.get(Application, outcome.app_id)
        app.data = {**_jiangxi_complete(), "materials": {**_jiangxi_complete()["materials"],
                                                          "id_card": app.data["materials"]["id_card"]}}
        s.flush()
        apps.submit(s, app.id, actor=s.get(Account, app.applicant_id), expected_version=None, token="t",
                    keys=env.p.keys, today=date(2026, 3, 2), calendar=load_calendar(env.p.root / "seeds" / "calendar"))
    reviewer = env.web("jx-street-clerk")
    assert reviewer.get(f"/desk/applications/{outcome.app_id}").status_code == 200


# (scenario, pack, step, changes (dotted → value), expected: None = saved | (code, message, pointer))
OTHER = "441402199007220427"  # 李秀梅: a real person of the demo e-licences, not the applicant
BOUND_ID = "申请人 · 公民身份号码已绑定本申请实名核验的身份（陈志强，4414**********0314），不能改为他人的信息"
BOUND_NAME = "申请人 · 姓名已绑定本申请实名核验的身份（陈志强，4414**********0314），不能改为他人的信息"
JX_BOUND_ID = ("身份证（电子证照） · 公民身份号码已绑定本申请实名核验的身份（王芳，3601**********004X），"
               "不能改为他人的信息")
SAVE = [
    ("another person's ID number", MZ, "members", {"members.applicant.id_number": OTHER},
     ("identity_bound", BOUND_ID, "/members/applicant/id_number")),
    ("another person's name", MZ, "members", {"members.applicant.name": "李秀梅"},
     ("identity_bound", BOUND_NAME, "/members/applicant/name")),
    ("the e-licence copy's ID number", JX, "materials", {"materials.id_card.id_number": "360102198803150018"},
     ("identity_bound", JX_BOUND_ID, "/materials/id_card/id_number")),
    ("the verified identity kept, the mobile changed", MZ, "members",
     {"members.applicant.id_number": "441402198803150314", "members.applicant.mobile": "13807530009"}, None),
]


@pytest.mark.parametrize("channel", SAVE_CHANNELS, ids=lambda c: c.name)
@pytest.mark.parametrize(("scenario", "pack", "step", "changes", "expected"), SAVE, ids=[s[0] for s in SAVE])
def test_save_keeps_the_bound_identity(env, channel, scenario, pack, step, changes, expected):
    saver = channel()
    starter = saver.starter()
    office = "441402001001" if pack == MZ else "360102001"
    started = starter.start(env, pack, office)
    assert started.ok, started
    before = env.app(started.app_id)
    outcome = saver.save(env, starter, started.app_id, step, changes)
    after = env.app(started.app_id)
    if expected is None:
        assert outcome.ok, outcome
        assert after.data["members"]["applicant"]["mobile"] == "13807530009"
        return
    code, message, pointer = expected
    assert (outcome.ok, outcome.code, outcome.message) == (False, code, message), outcome
    if channel.name.startswith("api"):
        assert outcome.pointers == [pointer]
    else:
        assert node_id(pointer) in outcome.pointers  # shown at the field
    assert (after.version, after.data) == (before.version, before.data), "nothing stored"


def test_refresh_is_recorded_and_window_result_is_masked(env):
    """Defect 11: the window shows the e-licences masked; 重新获取 is recorded with its purpose."""
    from contract.start_channels import Window

    window = Window()
    outcome = window.start(env, JX, "360102001")
    assert outcome.ok
    assert "3601**********004X" in window.page and "36010219950410004X" not in window.page
    assert 'data-source="hukou"' in window.page and "王建国" in window.page
    assert "360102196201180050" not in window.page  # household members' numbers masked too
    web = window.client
    url = f"/portal/applications/{outcome.app_id}/step/materials"
    from contract.start_channels import _csrf

    r = web.client.post(url, data={"_action": "fetch:", "_version": str(env.app(outcome.app_id).version),
                                   "csrf_token": _csrf(web, url)})
    assert r.status_code == 302
    assert env.access(outcome.app_id)[-2:] == [("elicence_fetch:idcard:refresh", "clerk"),
                                               ("elicence_fetch:hukou:refresh", "clerk")]


def test_window_clerk_cannot_start_another_localitys_matter(env):
    """Defect 11: a Jiangxi clerk typing a Meizhou citizen's number for a Meizhou matter gets nothing."""
    from contract.start_channels import _csrf

    web = env.web("jx-window-clerk")
    page = web.get("/portal/window").get_data(as_text=True)
    assert "meizhou-meijiang/" not in page  # not offered
    r = web.client.post("/portal/window", data={
        "matter": f"{MZ}/public-rental-housing", "office": "441402001001", "name": "陈志强",
        "id_number": "441402198803150314", "consent": "yes", "csrf_token": _csrf(web, "/portal/window")})
    assert r.status_code == 403 and r.headers["X-Refusal-Code"] == "not_your_pack"
    with env.p.sessions() as s:
        assert s.scalar(select(Application.id)) is None
        assert s.scalar(select(AccessRecord.id)) is None


def test_window_offers_only_regions_that_accept(env):
    """Defect 1: the window's region list starts at the level that owns acceptance (no city first)."""
    import re

    web = env.web("jx-window-clerk")
    page = web.get("/portal/window").get_data(as_text=True)
    options = re.findall(r'<option value="([^"]+)" data-pack="jiangxi"', page)
    assert options == ["360102001"]
