"""Each person finds their area from the header: citizens, reviewers, window clerks, configurators."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("username", "present", "absent"),
    [
        ("mj-citizen-chen", ["/portal/my"], ["/desk/", "/admin/"]),
        ("mj-street", ["/desk/", "/housing/"], ["/admin/", "/portal/window"]),
        ("mj-window", ["/portal/window"], ["/desk/", "/admin/"]),
        ("mj-configurator", ["/admin/"], ["/desk/", "/portal/window"]),
    ],
)
def test_header_links_by_role(web, username, present, absent):
    web.login(username)
    page = web.get("/").get_data(as_text=True)
    for link in present:
        assert f'href="{link}"' in page
    for link in absent:
        assert f'href="{link}"' not in page


def test_home_links_every_citizen_matter_and_the_public_waiting_list(web):
    page = web.get("/").get_data(as_text=True)
    assert 'href="/portal/meizhou-meijiang/public-rental-housing/"' in page
    assert 'href="/portal/jiangxi/public-rental-housing/"' in page
    assert "/public/meizhou-meijiang/public-rental-housing/waiting-list" in page
    assert "follow-up/" not in page
