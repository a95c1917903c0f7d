"""Outbox tests: the workflow's Flow on both databases, a services object for the worker, test handlers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from wf_support import ROOT, Flow  # noqa: E402

from formflow.calendars.workdays import load_calendar  # noqa: E402


@pytest.fixture(scope="session")
def calendar():
    return load_calendar(ROOT / "seeds" / "calendar")


@pytest.fixture
def ob_flow(platform_db, calendar) -> Flow:
    """The same flow on SQLite and on PostgreSQL."""
    return Flow(platform_db, calendar)


@pytest.fixture
def sqlite_flow(sqlite_platform, calendar) -> Flow:
    return Flow(sqlite_platform, calendar)


@pytest.fixture(autouse=True)
def no_citizen_messages():
    """These tests count the worker's own messages (notices): the citizens' message kinds, which an app created
    earlier in this process installs, would add `sms` rows to every action. They are tested in tests/notifications."""
    from formflow.notifications import registry

    packset = registry.packset() if registry.installed() else None
    registry.uninstall()
    yield
    if packset is not None:
        registry.install(packset)
