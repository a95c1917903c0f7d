"""Dashboards render as SVG without script or style; allocation.yaml is validated and cross-checked."""

from __future__ import annotations

import io
import re
from datetime import date

import yaml
from alloc_support import FLAT, approved
from openpyxl import load_workbook

from formflow.packs import load_packs

ALLOCATION = "schemas/meizhou-meijiang/public-rental-housing/allocation.yaml"


def test_dashboard_charts_and_workbook(site):
    p = site.p
    approved(p, on=date(2026, 3, 1), mode=FLAT, size=3)
    client = site.client("mj-housing")
    response = client.get("/housing/meizhou-meijiang/dashboard")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for chart in ("by-stage", "by-category", "by-office", "median-days", "waiting"):
        assert f'id="section-{chart}"' in page
    assert '<svg' in page and 'id="chart-waiting"' in page
    assert "<script" not in page.split("</head>")[1] and not re.search(r"\sstyle=", page)
    data = client.get("/housing/meizhou-meijiang/dashboard?format=xlsx").data
    book = load_workbook(io.BytesIO(data))
    assert "超期件" in book.sheetnames and len(book.sheetnames) >= 5
    # office-ready: frozen header, A4 landscape, numbers as numbers, a total under the counts
    first = book.worksheets[0]
    rows = list(first.iter_rows(values_only=True))
    assert first.freeze_panes == "A3" and first.page_setup.orientation == "landscape"
    body = [r for r in rows[2:] if r[0] != "合计"]
    assert all(isinstance(r[1], (int, float)) for r in body)
    total = next(r for r in rows if r[0] == "合计")
    assert total[1] == sum(r[1] for r in body)
    assert site.client("mj-citizen-chen").get("/housing/meizhou-meijiang/dashboard").status_code == 404


def test_the_configurator_gets_configuration_only(site):
    """Separation of duties: no household archive, waiting list, lottery or dashboard for the configurator."""
    approved(site.p, on=date(2026, 3, 1), mode=FLAT, size=3)
    configurator = site.client("mj-configurator")
    for path in ("/housing/meizhou-meijiang/dashboard", "/housing/meizhou-meijiang/public-rental-housing/waiting",
                 "/housing/meizhou-meijiang/public-rental-housing/lottery"):
        assert configurator.get(path).status_code == 404, path
    assert configurator.get("/admin/").status_code == 200  # positive control: configuration stays theirs
    assert site.client("mj-housing").get("/housing/meizhou-meijiang/public-rental-housing/waiting").status_code == 200


def test_a_platform_role_in_allocation_roles_is_a_problem(config_copy):
    path = config_copy / ALLOCATION
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["roles"]["lottery"] = ["housing_bureau_reviewer", "configurator"]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    problems = "\n".join(_problems(config_copy))
    assert f"{ALLOCATION}:/roles/lottery/1" in problems and "平台角色" in problems


def _problems(root):
    return [str(x) for x in load_packs(root).problems]


def test_broken_allocation_is_reported_with_file_and_pointer(config_copy):
    path = config_copy / ALLOCATION
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["entry"]["result"] = "granted"
    doc["household"]["size"] = "members"
    doc["roles"]["lottery"] = ["lottery_master"]
    doc["modes"]["rental_subsidy"]["follow_up"] = "no-such-matter"
    doc["waiting_list"]["order"].append({"title": "x", "logic": {"var": "household.facts.unknown"}})
    doc["subsidy"]["monthly_amount"] = {"*": [{"var": "params.no_such_rate"}, 2]}
    doc["follow_up"]["outcomes"]["expelled"] = "recover_flat"
    doc["household"]["facts"]["category"]["logic"] = {"var": "data.category.no_such_field"}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    problems = "\n".join(_problems(config_copy))
    for expected in ("/entry/result", "/household/size", "/roles/lottery/0", "/modes/rental_subsidy/follow_up",
                     "/waiting_list/order/3/logic", "/subsidy/monthly_amount", "/follow_up/outcomes/expelled",
                     "/household/facts/category/logic"):
        assert f"{ALLOCATION}:{expected}" in problems, expected


def test_allocation_meta_schema_rejects_unknown_keys(config_copy):
    path = config_copy / ALLOCATION
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["modes"]["physical_allocation"]["kind"] = "voucher"
    doc["lottery_rules"] = {}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    problems = "\n".join(_problems(config_copy))
    assert f"{ALLOCATION}:/modes/physical_allocation/kind" in problems
    assert "lottery_rules" in problems
