"""The quarterly subsidy roster: amounts from the pack's formula, an Excel workbook whose totals match."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

from alloc_support import SUBSIDY, account, alloc, approved, filed, household
from openpyxl import load_workbook

from formflow.allocation import subsidy
from formflow.documents.exports import neutralise


def expected_quarter(size: int, area: float, months: int = 3) -> Decimal:
    """(15 m²/人 − 人均面积) × 人口 × 8 元/m²·月, per month (the shipped example parameters)."""
    monthly = max(Decimal(0), (Decimal(15) - Decimal(str(area)) / size) * size * 8).quantize(Decimal("0.01"))
    return monthly * months


def test_roster_workbook_opens_and_its_totals_match(site):
    p = site.p
    a = approved(p, on=date(2026, 1, 20), mode=SUBSIDY, size=3, area=12)
    b = approved(p, on=date(2026, 2, 5), mode=SUBSIDY, size=1, area=0, name="=HYPERLINK(\"http://x\")")
    c = approved(p, on=date(2026, 5, 10), mode=SUBSIDY, size=2, area=40)  # starts mid-quarter
    filed(p, date(2026, 5, 10))
    housing = site.client("mj-housing")
    site.set_today(date(2026, 5, 20))
    page = "/housing/meizhou-meijiang/public-rental-housing/subsidy"
    assert housing.post(page, {"period": "2026-Q2"}, token_from=page).status_code == 302
    with p.sessions() as s:
        roster = s.scalar(subsidy.select(subsidy.SubsidyRoster).where(subsidy.SubsidyRoster.period == "2026-Q2"))
    by_code = {r["code"]: r for r in roster.rows}
    assert Decimal(by_code[household(p, a).code]["amount"]) == expected_quarter(3, 12)
    assert Decimal(by_code[household(p, b).code]["amount"]) == expected_quarter(1, 0)
    assert by_code[household(p, c).code]["months"] == 2  # May and June
    assert Decimal(roster.total) == sum(Decimal(r["amount"]) for r in roster.rows)

    response = housing.get(f"/housing/subsidy/{roster.id}.xlsx")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.data)).active
    rows = list(ws.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if "本期补贴额（元）" in r)
    header = rows[head]
    amount_col, link_col = header.index("本期补贴额（元）"), header.index("一户一档")
    body = [r for r in rows[head + 1:] if isinstance(r[0], int)]
    total_row = next(r for r in rows if r[0] == "合计")
    assert len(body) == 3
    assert round(sum(r[amount_col] for r in body), 2) == float(roster.total) == total_row[amount_col]
    # full ID numbers for the finance bureau; the formula-like name is text, not a formula
    assert "441402198803150314" in {r[3] for r in body}
    names = [r[2] for r in body]
    assert neutralise('=HYPERLINK("http://x")') in names and all(not str(n).startswith("=") for n in names)
    cells = {c.value: c for c in ws[3][:1]}
    assert cells
    links = [ws.cell(row=head + i + 2, column=link_col + 1).hyperlink.target for i in range(3)]
    assert all("/housing/households/" in url for url in links)
    # the archive a row links to opens for the bureau
    path = "/housing/households/" + links[0].rsplit("/", 1)[1]
    assert "一户一档" in housing.get(path).get_data(as_text=True)


def test_roster_workbook_is_office_ready(site):
    """Frozen header, filter, A4 landscape with repeated titles, money and sizes as numbers, totals,
    the example-values banner, the signature block, and a download name every browser keeps."""
    p = site.p
    approved(p, on=date(2026, 1, 20), mode=SUBSIDY, size=3, area=12)
    approved(p, on=date(2026, 2, 5), mode=SUBSIDY, size=1, area=0)
    filed(p, date(2026, 5, 10))
    housing = site.client("mj-housing")
    site.set_today(date(2026, 5, 20))
    page = "/housing/meizhou-meijiang/public-rental-housing/subsidy"
    assert housing.post(page, {"period": "2026-Q2"}, token_from=page).status_code == 302
    with p.sessions() as s:
        roster = s.scalar(subsidy.select(subsidy.SubsidyRoster).where(subsidy.SubsidyRoster.period == "2026-Q2"))
    response = housing.get(f"/housing/subsidy/{roster.id}.xlsx")
    disposition = response.headers["Content-Disposition"]
    assert re.search(r'filename="[ -~]*\.xlsx"', disposition), disposition
    assert "filename*=UTF-8''" in disposition and disposition.endswith(".xlsx")
    ws = load_workbook(io.BytesIO(response.data)).active
    rows = list(ws.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if "本期补贴额（元）" in r) + 1  # 1-based row of the header
    assert "示例值" in str(rows[0][0])  # the shipped parameters still hold example values
    assert ws.freeze_panes == f"A{head + 1}"
    assert ws.auto_filter.ref.startswith(f"A{head}:")
    assert ws.print_title_rows == f"$1:${head}"
    assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9"  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    header = rows[head - 1]
    amount, monthly = header.index("本期补贴额（元）") + 1, header.index("月补贴额（元）") + 1
    area = next(i for i, h in enumerate(header) if "面积" in str(h)) + 1
    first = ws.cell(row=head + 1, column=amount)
    assert isinstance(first.value, (int, float)) and first.number_format == "#,##0.00"
    assert ws.cell(row=head + 1, column=monthly).number_format == "#,##0.00"
    assert isinstance(ws.cell(row=head + 1, column=area).value, (int, float))
    total = next(r for r in ws.iter_rows() if r[0].value == "合计")
    assert total[amount - 1].value == float(roster.total) and total[amount - 1].number_format == "#,##0.00"
    assert any(r[0] == "制表人：" for r in rows) and any("审核人：" in r for r in rows)


def test_periods_parse_and_households_that_start_later_are_left_off(sqlite_platform):
    p = sqlite_platform
    q = subsidy.parse_period("2026-q3", "quarter")
    assert (q.start, q.end) == (date(2026, 7, 1), date(2026, 9, 30))
    assert subsidy.parse_period("2026-02", "month").end == date(2026, 2, 28)
    approved(p, on=date(2026, 10, 2), mode=SUBSIDY, size=2, area=0)
    filed(p, date(2026, 10, 2))
    with p.sessions.begin() as s:
        roster = subsidy.build_roster(s, alloc(p), "2026-Q3", account(p, "mj-housing"), today=date(2026, 10, 5))
    assert roster.rows == [] and roster.total == "0.00"
