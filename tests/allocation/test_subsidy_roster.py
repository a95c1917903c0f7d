"""The quarterly subsidy roster: amounts from the pack's formula, an Excel workbook whose totals match."""

from __future__ import annotations

import io
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
    header = rows[1]
    amount_col, link_col = header.index("本期补贴额（元）"), header.index("一户一档")
    body = [r for r in rows[2:] if isinstance(r[0], int)]
    total_row = next(r for r in rows if r[0] == "合计")
    assert len(body) == 3
    assert round(sum(r[amount_col] for r in body), 2) == float(roster.total) == total_row[amount_col]
    # full ID numbers for the finance bureau; the formula-like name is text, not a formula
    assert "441402198803150314" in {r[3] for r in body}
    names = [r[2] for r in body]
    assert neutralise('=HYPERLINK("http://x")') in names and all(not str(n).startswith("=") for n in names)
    cells = {c.value: c for c in ws[3][:1]}
    assert cells
    links = [ws.cell(row=i + 3, column=link_col + 1).hyperlink.target for i in range(3)]
    assert all("/housing/households/" in url for url in links)
    # the archive a row links to opens for the bureau
    path = "/housing/households/" + links[0].rsplit("/", 1)[1]
    assert "一户一档" in housing.get(path).get_data(as_text=True)


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
