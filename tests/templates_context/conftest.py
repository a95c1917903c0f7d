"""Template context fixtures: the workflow tests' Flow, on the shipped packs or on a changed copy of them."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE.parent / "workflow") not in sys.path:
    sys.path.append(str(HERE.parent / "workflow"))

from household import copy_config  # noqa: E402
from wf_support import ROOT, Flow  # noqa: E402

from formflow.calendars.workdays import WorkCalendar, load_calendar  # noqa: E402
from formflow.notifications import registry  # noqa: E402
from support import Platform  # noqa: E402


@pytest.fixture(scope="session")
def calendar() -> WorkCalendar:
    return load_calendar(ROOT / "seeds" / "calendar")


@pytest.fixture
def shipped_flow(sqlite_platform, calendar) -> Flow:
    """A Flow on the shipped packs, with their message kinds installed."""
    registry.install(sqlite_platform.packs)
    yield Flow(sqlite_platform, calendar)
    registry.uninstall()


@pytest.fixture
def changed_flow(tmp_path: Path, calendar) -> Callable[[Callable[[Path], None]], Flow]:
    """A Flow on a copy of the shipped configuration changed by `change(root)` (migrated and loaded anew)."""
    made: list[Platform] = []

    def make(change: Callable[[Path], None]) -> Flow:
        from formflow.packs import load_packs

        root = copy_config(tmp_path / "config")
        change(root)
        packs = load_packs(root)
        assert not packs.problems, packs.problems
        platform = Platform(f"sqlite:///{tmp_path / 'changed.sqlite3'}", root, tmp_path / "instance", packs=packs)
        made.append(platform)
        registry.install(packs)
        return Flow(platform, calendar)

    yield make
    registry.uninstall()
    for platform in made:
        platform.engine.dispose()
