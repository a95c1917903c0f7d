"""The waiting list: ordered by the pack's rule, published with names and ID numbers masked."""

from __future__ import annotations

import io
import re
from datetime import date

from alloc_support import FLAT, SUBSIDY, alloc, approved, filed, household
from openpyxl import load_workbook

from formflow.allocation import register
from formflow.documents.exports import csv_bytes, neutralise

DAY = date(2026, 4, 15)


def test_order_follows_the_pack_rule(sqlite_platform):
    p = sqlite_platform
    late = approved(p, on=date(2026, 3, 20), mode=FLAT, size=2, income=1000)
    rich = approved(p, on=date(2026, 3, 10), mode=FLAT, size=2, income=3000)
    poor = approved(p, on=date(2026, 3, 10), mode=FLAT, size=2, income=1000)
    approved(p, on=date(2026, 3, 1), mode=SUBSIDY, size=2)  # subsidised, not waiting
    filed(p, DAY)
    with p.sessions() as s:
        order = [h.application_id for h in register.waiting_list(s, alloc(p), today=DAY)]
    assert order == [poor, rich, late]  # same day: lower per-capita income first
    assert filed(p, DAY) == []  # filing is idempotent


def test_public_page_and_exports_mask_names_and_id_numbers(site):
    p = site.p
    approved(p, on=date(2026, 3, 1), mode=FLAT, size=3, name="陈志强")
    approved(p, on=date(2026, 3, 2), mode=FLAT, size=1, name="=cmd|' /C calc'!A0", id_number="441402200105200628",
             username="mj-citizen-huang")
    filed(p, DAY)  # cron's `formflow allocation sync`: the pages themselves never file
    anyone = site.client()
    page = anyone.get("/public/meizhou-meijiang/public-rental-housing/waiting-list").get_data(as_text=True)
    assert "陈**" in page and "陈志强" not in page
    assert "441402198803150314" not in page and "4414**********0314" in page
    assert "中低收入住房困难家庭" in page  # a published fact, with its configured title
    text = anyone.get("/public/meizhou-meijiang/public-rental-housing/waiting-list?format=csv").data.decode("utf-8-sig")
    assert "陈志强" not in text and "'=" in text and "\n=" not in text
    data = anyone.get("/public/meizhou-meijiang/public-rental-housing/waiting-list?format=xlsx").data
    values = [c for row in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True) for c in row]
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "-", "@")) for v in values)
    # the staff list links each household's archive; others may not see it
    staff = site.client("mj-housing").get("/housing/meizhou-meijiang/public-rental-housing/waiting").get_data(
        as_text=True)
    assert "一户一档" in staff
    # the staff workbook: household size as a number, header frozen, the example-values banner, a kept extension
    book = site.client("mj-housing").get("/housing/meizhou-meijiang/public-rental-housing/waiting?format=xlsx")
    assert re.search(r'filename="[ -~]*\.xlsx"', book.headers["Content-Disposition"])
    ws = load_workbook(io.BytesIO(book.data)).active
    rows = list(ws.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if "档案编号" in r or "轮候序号" in r)
    assert "示例值" in str(rows[0][0]) and ws.freeze_panes == f"A{head + 2}"
    sizes = [r[4] for r in rows[head + 1:] if isinstance(r[0], int)]
    assert sizes and all(isinstance(v, (int, float)) for v in sizes), rows[head:]
    assert site.client("mj-citizen-chen").get("/housing/meizhou-meijiang/public-rental-housing/waiting").status_code \
        == 404


def test_neutralise_every_dangerous_start():
    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(bad) == "'" + bad
    assert neutralise("陈志强") == "陈志强" and neutralise(-5) == -5
    assert csv_bytes(["a"], [["=x"]]).decode("utf-8-sig").splitlines()[1] == "'=x"


def test_the_archive_shows_the_history(site):
    p = site.p
    app_id = approved(p, on=date(2026, 3, 1), mode=FLAT, size=3)
    filed(p, DAY)
    h = household(p, app_id)
    page = site.client("mj-housing").get(f"/housing/households/{h.id}").get_data(as_text=True)
    assert "进入保障" in page and h.code in page and "轮候中" in page
    assert site.client("mj-citizen-chen").get(f"/housing/households/{h.id}").status_code == 200  # their own
    assert site.client("mj-citizen-huang").get(f"/housing/households/{h.id}").status_code == 404
