"""Stage form fixtures: a copy of the Meizhou pack whose street review has reviewer-entered fields."""

from __future__ import annotations

from datetime import date

import pytest
from sf_support import StagePack, write_stage_form_pack

from formflow.packs import load_packs

TODAY = date(2026, 3, 2)


@pytest.fixture
def stage_pack(config_copy, sqlite_platform) -> StagePack:
    write_stage_form_pack(config_copy)
    packs = load_packs(config_copy)
    assert not packs.problems, packs.problems
    sqlite_platform.packs = packs
    sqlite_platform.root = config_copy
    return StagePack(sqlite_platform, TODAY)
