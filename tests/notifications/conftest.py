"""Notification fixtures: the workflow tests' Flow with the packs' message kinds installed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for folder in ("workflow", "allocation", "api"):
    if str(HERE.parent / folder) not in sys.path:
        sys.path.append(str(HERE.parent / folder))

from wf_support import ROOT, Flow  # noqa: E402

from formflow.calendars.workdays import WorkCalendar, load_calendar  # noqa: E402
from formflow.notifications import registry  # noqa: E402


@pytest.fixture(scope="session")
def calendar() -> WorkCalendar:
    return load_calendar(ROOT / "seeds" / "calendar")


@pytest.fixture
def installed():
    """Install a packset's message kinds for one test (the shipped packs unless given)."""
    def install(packset) -> None:
        registry.install(packset)

    yield install
    registry.uninstall()


@pytest.fixture
def flow(platform_db, calendar, installed) -> Flow:
    """A Flow on SQLite and on PostgreSQL, with the shipped packs' message kinds."""
    installed(platform_db.packs)
    return Flow(platform_db, calendar)


@pytest.fixture
def sqlite_flow(sqlite_platform, calendar, installed) -> Flow:
    installed(sqlite_platform.packs)
    return Flow(sqlite_platform, calendar)
