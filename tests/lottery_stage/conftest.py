"""Lottery-stage fixtures: the workflow folder's loaded SQLite copy, and packs loaded from an edited copy."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

WORKFLOW_TESTS = Path(__file__).resolve().parents[1] / "workflow"
CONFIG_POWER = Path(__file__).resolve().parents[1] / "config_power"
if str(WORKFLOW_TESTS) not in sys.path:
    sys.path.insert(0, str(WORKFLOW_TESTS))

_spec = importlib.util.spec_from_file_location("lottery_stage_cp_conftest", CONFIG_POWER / "conftest.py")
assert _spec is not None and _spec.loader is not None
_cp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cp)

calendar = _cp.calendar
loaded_sqlite = _cp.loaded_sqlite
wf_sqlite = _cp.wf_sqlite
edited = _cp.edited
