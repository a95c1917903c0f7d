"""The API's interactive page works in a real browser under the strict CSP (no inline script)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_explorer_lists_operations_and_can_send_a_request(live_server, desktop_page, shots):
    page = desktop_page
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + "/api/v1/explorer")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() > 20
    shots(page, "explorer")
    block = page.locator(".opblock", has_text="/matters").first
    block.click()
    page.get_by_role("button", name="Execute").first.click()
    page.wait_for_selector(".live-responses-table tbody .response-col_status", timeout=15_000)
    assert "200" in page.locator(".live-responses-table tbody .response-col_status").first.inner_text()
    shots(page, "executed")
    assert not [e for e in errors if "Content Security Policy" in e], errors
