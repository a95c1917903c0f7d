"""API fixtures: the web app with the API blueprint, a fixed today, and a JSON client per person."""

from __future__ import annotations

from datetime import date

import pytest
from api_support import Api

TODAY = date(2026, 3, 2)


@pytest.fixture
def api(sqlite_platform) -> Api:
    return Api(sqlite_platform, TODAY)


@pytest.fixture
def api_on_each_database(platform_db) -> Api:
    return Api(platform_db, TODAY)
