"""Security-suite helpers: reuse the desk's factories (tests/desk/desk_support.py)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1]
for _folder in ("desk", "api"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.append(str(_TESTS / _folder))

from desk_support import CALENDAR, CITIZEN, HOME, JX, MZ, PNG, app_row, create, events  # noqa: E402,F401

TODAY = date(2026, 3, 2)


class Sec:
    """A loaded SQLite platform, its web app (today fixed) and fresh signed-in clients."""

    def __init__(self, platform, web) -> None:
        self.p = platform
        self.app = web.app
        self._client_class = type(web)
        self.app.extensions["formflow"]["today"] = lambda: TODAY

    def client(self, username: str | None = None):
        c = self._client_class(self.app)
        if username:
            r = c.login(username)
            assert r.status_code == 302, r.get_data(as_text=True)[:300]
        return c
