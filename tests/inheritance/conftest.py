"""Inheritance fixtures: the workflow helpers (tests/workflow) and the shipped calendar."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for folder in ("workflow",):
    if str(HERE.parent / folder) not in sys.path:
        sys.path.insert(0, str(HERE.parent / folder))


@pytest.fixture(scope="session")
def calendar():
    from formflow.calendars.workdays import load_calendar

    return load_calendar(HERE.parents[1] / "seeds" / "calendar")
