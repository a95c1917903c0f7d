"""The desk's 「全部符合」 in a real browser: rows of materials the application does not need stay 不适用 (4a)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "desk"))

from desk_support import MZ, create, sample_data  # noqa: E402

from formflow.reviews.tables import latest_marking  # noqa: E402
from support import demo_password  # noqa: E402

pytestmark = [pytest.mark.browser]
STAGE = "community_acceptance"


def test_all_pass_leaves_rows_of_materials_not_required_not_applicable(live_server, desktop_page, shots):
    p = live_server.platform
    app_id = create(p, MZ, today=date.today(), category="low-income", data=sample_data("low-income"))
    page = desktop_page
    page.goto(f"{live_server.url}/auth/login")
    page.fill("#username", "mj-community")
    page.fill("#password", demo_password("mj-community"))
    page.click("form button.primary")
    page.goto(f"{live_server.url}/desk/applications/{app_id}")
    page.click(f"#all-pass-{STAGE}")
    assert page.is_checked(f"#m-{STAGE}-r6-c0-na") and page.is_checked(f"#m-{STAGE}-r1-c0-pass")
    # the live outcome: the page's words (the catalogue), the counts filled in by desk.js
    live = page.text_content(f"#outcome-{STAGE} .live-outcome")
    total = page.eval_on_selector_all(f"#marking-{STAGE} input[type=radio][value=pass]", "els => els.length")
    assert live == f"（已选 {total}/{total}，当前为“通过”，保存后生效）"
    shots(page, "all-pass")
    page.click(f"#save-marking-{STAGE}")
    page.wait_for_selector(f"#outcome-{STAGE}[data-outcome=pass]")
    with p.sessions() as s:
        saved = latest_marking(s, app_id, STAGE, "acceptance")
        rows = saved.marking["rows"]
    assert {v for no in ("6", "7", "8", "9") for v in rows[no]["criteria"]} == {"na"}
    assert {v for no in ("1", "2", "3", "4", "5") for v in rows[no]["criteria"]} == {"pass"}
