"""Config-power fixtures: the workflow folder's loaded SQLite copy, and packs loaded from an edited copy."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

WORKFLOW_TESTS = Path(__file__).resolve().parents[1] / "workflow"
if str(WORKFLOW_TESTS) not in sys.path:
    sys.path.insert(0, str(WORKFLOW_TESTS))

_spec = importlib.util.spec_from_file_location("config_power_wf_conftest", WORKFLOW_TESTS / "conftest.py")
assert _spec is not None and _spec.loader is not None
_wf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_wf)

calendar = _wf.calendar
loaded_sqlite = _wf.loaded_sqlite
wf_sqlite = _wf.wf_sqlite
flow = _wf.flow
any_flow = _wf.any_flow
CopiedPlatform = _wf.CopiedPlatform


class EditedConfig:
    """A private copy of the shipped configuration; edit its YAML files, then load its packs."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def edit(self, rel: str, change: Callable[[dict], object]) -> None:
        from formflow.packs.problems import load_yaml

        path = self.root / rel
        content = load_yaml(path.read_text(encoding="utf-8"))  # YAML 1.2 booleans, as the loader reads it
        change(content)
        path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def load(self, *, ok: bool = True):
        from formflow.packs import load_packs

        packs = load_packs(self.root)
        if ok:
            assert not packs.problems, packs.problems
        return packs


@pytest.fixture
def edited(tmp_path: Path) -> EditedConfig:
    from wf_support import ROOT

    dest = tmp_path / "config"
    for name in ("schemas", "workflows", "seeds", "renderers"):
        shutil.copytree(ROOT / name, dest / name)
    return EditedConfig(dest)


@pytest.fixture
def copied_platform():
    """The workflow folder's `CopiedPlatform` class (a private copy of the loaded SQLite database)."""
    return CopiedPlatform
