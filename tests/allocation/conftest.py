"""Allocation fixtures: signed-in clients over the web app with the housing blueprint."""

from __future__ import annotations

from datetime import date

import pytest
from alloc_support import web_app

TODAY = date(2026, 4, 15)


class Site:
    def __init__(self, platform, today: date = TODAY) -> None:
        from support import WebClient

        self.p = platform
        self.app = web_app(platform, today)
        self._client = WebClient

    def client(self, username: str | None = None):
        c = self._client(self.app)
        if username:
            response = c.login(username)
            assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return c

    def set_today(self, today: date) -> None:
        self.app.extensions["formflow"]["today"] = today


@pytest.fixture
def site(sqlite_platform) -> Site:
    return Site(sqlite_platform)
