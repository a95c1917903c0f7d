"""Desk fixtures: the web app of a loaded platform with a fixed today, and clients per person."""

from __future__ import annotations

from datetime import date

import pytest

TODAY = date(2026, 3, 2)


class Desk:
    """A platform, its web app (today fixed, settable), and fresh signed-in clients."""

    def __init__(self, platform, web) -> None:
        self.p = platform
        self.app = web.app
        self._client_class = type(web)
        self.today = TODAY
        self.app.extensions["formflow.services"].clock.fixed_today = lambda: self.today

    def client(self, username: str | None = None):
        c = self._client_class(self.app)
        if username:
            response = c.login(username)
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return c


@pytest.fixture
def desk(sqlite_platform, web) -> Desk:
    return Desk(sqlite_platform, web)


@pytest.fixture
def desk_on_each_database(platform_db, web_on_each_database) -> Desk:
    return Desk(platform_db, web_on_each_database)
