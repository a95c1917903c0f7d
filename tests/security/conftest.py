"""Security suite fixtures."""

from __future__ import annotations

import pytest
from sec_support import Sec


@pytest.fixture
def sec(sqlite_platform, web) -> Sec:
    return Sec(sqlite_platform, web)
