"""The configurator's pages: only for configurators; packs, workflow, parameters."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def demo_user(pack: str, role: str) -> str:
    demo = yaml.safe_load((ROOT / "seeds" / pack / "demo.yaml").read_text(encoding="utf-8"))
    return next(a["username"] for a in demo["accounts"] if [r["role"] for r in a["roles"]] == [role])


PAGES = [
    "/admin/",
    "/admin/meizhou-meijiang/public-rental-housing/workflow",
    "/admin/meizhou-meijiang/public-rental-housing/workflow.svg",
    "/admin/jiangxi/public-rental-housing/workflow",
    "/admin/meizhou-meijiang/parameters",
    "/admin/jiangxi/parameters",
]


@pytest.fixture
def configurator(web):
    assert web.login(demo_user("meizhou-meijiang", "configurator")).status_code == 302
    return web


def test_pages_answer_a_configurator(configurator):
    for path in PAGES:
        response = configurator.get(path)
        assert response.status_code == 200, path


def test_pages_are_404_for_a_citizen(web):
    assert web.login(demo_user("meizhou-meijiang", "citizen")).status_code == 302
    for path in PAGES:
        assert web.get(path).status_code == 404, path


def test_pages_are_404_for_a_reviewer(web):
    assert web.login("mj-community").status_code == 302
    assert web.get("/admin/").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(web):
    response = web.get("/admin/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_unknown_pack_or_matter_is_404(configurator):
    assert configurator.get("/admin/nowhere/parameters").status_code == 404
    assert configurator.get("/admin/jiangxi/nothing/workflow").status_code == 404
    assert configurator.get("/admin/nowhere/public-rental-housing/workflow.svg").status_code == 404


def test_index_lists_packs_matters_and_example_counts(configurator):
    from markupsafe import escape

    from formflow.packs import load_packs
    from formflow.packs.summary import summarize

    page = configurator.get("/admin/").get_data(as_text=True)
    packset = load_packs(ROOT)
    for pack in packset.packs.values():
        assert pack.name in page
        assert str(escape(summarize(pack))) in page
        for matter in pack.matters.values():
            assert matter.title in page
            assert f"/admin/{pack.id}/{matter.id}/workflow" in page
        assert f"/admin/{pack.id}/parameters" in page
    assert "个示例值需配置" in page
    assert "配置检查通过" in page


def test_workflow_page_shows_diagram_and_stage_table(configurator):
    page = configurator.get("/admin/meizhou-meijiang/public-rental-housing/workflow").get_data(as_text=True)
    assert "<svg" in page and "<script" not in page
    svg = page[page.index("<svg") : page.index("</svg>") + 6]
    ET.fromstring(svg)
    for text in (
        "社区居委会受理人员",
        "社区级",
        "3个工作日",
        "20日",
        "受理通知书",
        "放弃申请",
        "审查表结论为通过",
        "期满自动流转",
        "受理审核量化表",
    ):
        assert text in page, text
    workflow = yaml.safe_load(
        (ROOT / "workflows" / "meizhou-meijiang" / "public-rental-housing.yaml").read_text(encoding="utf-8")
    )
    assert page.count('id="stage-') == len(workflow["stages"])
    assert not re.search(r"<[^>]+ style=", page)


def test_svg_endpoint(configurator):
    response = configurator.get("/admin/jiangxi/public-rental-housing/workflow.svg")
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.get_data(as_text=True))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "Content-Security-Policy" in response.headers


def test_parameters_page_flags_example_values(configurator):
    params = yaml.safe_load((ROOT / "seeds" / "meizhou-meijiang" / "parameters.yaml").read_text(encoding="utf-8"))
    examples = [pid for pid, p in params["parameters"].items() if p.get("example")]
    assert examples, "the shipped pack has example values to flag"
    page = configurator.get("/admin/meizhou-meijiang/parameters").get_data(as_text=True)
    assert page.count("示例值，需配置") == len(examples)
    for pid, param in params["parameters"].items():
        row = re.search(rf'<tr id="param-{pid}" class="([^"]*)">(.*?)</tr>', page, re.S)
        assert row, pid
        assert ("example" in row.group(1)) == bool(param.get("example"))
        assert ("示例值，需配置" in row.group(2)) == bool(param.get("example"))
        assert str(param["value"]) in row.group(2)
        if param.get("unit"):
            assert param["unit"] in row.group(2)


def test_the_overview_warns_from_1_october_when_next_year_has_no_holidays(configurator):
    from datetime import date

    clock = configurator.app.extensions["formflow.services"].clock
    clock.fixed_today = date(2026, 9, 30)
    assert "尚无 2027 年的节假日数据" not in configurator.get("/admin/").get_data(as_text=True)
    clock.fixed_today = date(2026, 10, 1)
    page = configurator.get("/admin/").get_data(as_text=True)
    assert "尚无 2027 年的节假日数据" in page and "formflow calendar import" in page


def test_a_pack_configurator_sees_only_their_pack(web):
    """jx-configurator holds the role at the Jiangxi province office: Meizhou's pages are not theirs."""
    assert web.login(demo_user("jiangxi", "configurator")).status_code == 302
    assert web.get("/admin/jiangxi/parameters").status_code == 200  # positive control
    for path in ("/admin/meizhou-meijiang/parameters", "/admin/meizhou-meijiang/public-rental-housing/workflow",
                 "/admin/meizhou-meijiang/public-rental-housing/workflow.svg"):
        assert web.get(path).status_code == 404, path
    overview = web.get("/admin/").get_data(as_text=True)
    assert 'id="pack-jiangxi"' in overview and 'id="pack-meizhou-meijiang"' not in overview


def test_the_province_configurator_also_configures_the_city_packs_under_it(web, sqlite_platform):
    """jx-configurator (province office) configures jiangxi-nanchang too; a configurator held at an office
    inside 南昌市 configures Nanchang's pack only, not the province's."""
    from sqlalchemy import select

    from formflow.auth.scope import configured_packs
    from formflow.db.models import Account, Office, RoleAssignment

    assert web.login(demo_user("jiangxi", "configurator")).status_code == 302
    assert web.get("/admin/jiangxi-nanchang/parameters").status_code == 200
    assert 'id="pack-jiangxi-nanchang"' in web.get("/admin/").get_data(as_text=True)
    services = web.app.extensions["formflow.services"]
    with sqlite_platform.sessions.begin() as s:
        clerk = s.scalar(select(Account).where(Account.username == "jx-configurator"))
        city = s.scalar(select(Office).where(Office.region_code == "360100", Office.pack == "jiangxi"))
        s.query(RoleAssignment).filter_by(account_id=clerk.id).update({"office_id": city.id})
    with sqlite_platform.sessions() as s:
        clerk = s.scalar(select(Account).where(Account.username == "jx-configurator"))
        assert configured_packs(s, clerk.id, services) == {"jiangxi-nanchang"}
        assert configured_packs(s, clerk.id) == {"jiangxi"}  # without the packs: the office's own pack
    assert web.get("/admin/jiangxi/parameters").status_code == 404
    assert web.get("/admin/jiangxi-nanchang/parameters").status_code == 200
