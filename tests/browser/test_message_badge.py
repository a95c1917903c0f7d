"""我的消息 in a real browser: the citizen's unread badge appears after a reviewer acts at the desk.

At a 390 px phone width and on a desktop (formflow.notifications).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "desk"))
sys.path.insert(0, str(TESTS / "workflow"))

from desk_support import MZ, create, sample_data  # noqa: E402

from conftest import _context  # noqa: E402
from support import demo_password  # noqa: E402

pytestmark = [pytest.mark.browser]
STAGE = "community_acceptance"
#: The phone width the brief asks for (and a desktop).
WIDTHS = {"phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
          "desktop": {"viewport": {"width": 1280, "height": 900}}}


def _sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/auth/login")
    page.fill("#username", username)
    page.fill("#password", demo_password(username))
    page.click("form button.primary")


def _mark(platform, app_id: int) -> None:
    from wf_support import full_marking

    from formflow.db.models import Account, Application
    from formflow.packs.versions import load_pinned
    from formflow.reviews.tables import record_marking

    with platform.sessions.begin() as s:
        app = s.get(Application, app_id)
        pinned = load_pinned(s, app.versions)
        reviewer = s.query(Account).filter_by(username="mj-community").one()
        record_marking(s, app, STAGE, "acceptance", full_marking(pinned.table("acceptance")), reviewer, pinned)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_the_unread_badge_appears_after_a_reviewer_acts(width, live_server, chromium_browser, shots):
    from formflow.notifications import registry

    p = live_server.platform
    app_id = create(p, MZ, today=date.today(), category="low-income", data=sample_data("low-income"))
    _mark(p, app_id)
    citizen_ctx = _context(chromium_browser, WIDTHS[width])
    desk_ctx = _context(chromium_browser, WIDTHS["desktop"])
    try:
        citizen = citizen_ctx.new_page()
        _sign_in(citizen, live_server.url, "mj-citizen-chen")
        citizen.goto(f"{live_server.url}/portal/my")
        assert citizen.locator("#nav-messages").is_visible()
        assert citizen.locator("#unread-badge").count() == 0  # nothing yet
        shots(citizen, f"{width}-before")

        reviewer = desk_ctx.new_page()
        _sign_in(reviewer, live_server.url, "mj-community")
        reviewer.goto(f"{live_server.url}/desk/applications/{app_id}")
        assert reviewer.locator("#queue-mine").inner_text() == "1"
        reviewer.click(f"#act-{STAGE}-accept")
        reviewer.wait_for_load_state()
        shots(reviewer, f"{width}-reviewer-accepted")

        citizen.reload()
        badge = citizen.locator("#unread-badge")
        assert badge.inner_text() == "1"
        box = badge.bounding_box()
        assert box is not None and box["x"] + box["width"] <= WIDTHS[width]["viewport"]["width"]  # on screen
        shots(citizen, f"{width}-badge")
        citizen.click("#nav-messages")
        item = citizen.locator(".message.unread")
        assert item.count() == 1 and "申请已受理" in item.inner_text() and "陈**" in item.inner_text()
        scroll = citizen.evaluate("document.documentElement.scrollWidth")
        assert scroll <= WIDTHS[width]["viewport"]["width"]  # no sideways scrolling
        shots(citizen, f"{width}-messages")
        citizen.click(".message.unread button.primary")  # open the application: read
        assert f"/portal/applications/{app_id}" in citizen.url
        assert citizen.locator("#unread-badge").count() == 0
        shots(citizen, f"{width}-read")
    finally:
        citizen_ctx.close()
        desk_ctx.close()
        registry.uninstall()
