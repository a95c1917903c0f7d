"""The served site opens in a real browser on a phone and a desktop, and sign-in works."""

from __future__ import annotations

import pytest

from support import demo_password

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_home_and_sign_in(live_server, page, shots):
    page.goto(live_server.url + "/")
    assert "梅州市梅江区" in page.content() and "江西省" in page.content()
    shots(page, "home")
    page.goto(live_server.url + "/auth/login")
    page.fill("#username", "mj-citizen-chen")
    page.fill("#password", demo_password("mj-citizen-chen"))
    shots(page, "login")
    page.click("#password-login button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("form[action='/auth/logout']").count() == 1
    shots(page, "signed-in")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, "no horizontal scrolling"
