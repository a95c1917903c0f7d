"""The configurators' and engine texts (packs, forms, calendars, the CLI) all come from the catalogue.

Every msgid these files use has its zh_CN text with the same placeholders, so the Chinese reads as
before and an English reader sees the msgid; and no Chinese literal is left in them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from formflow.calendars.workdays import HOLIDAY_NAMES
from formflow.text.catalogue import in_locale, translations
from guards.cjk_literals import literals

ENGINE = Path(__file__).resolve().parents[2] / "platform" / "formflow"
FILES = [
    "packs/checks/__init__.py", "packs/checks/offices.py", "packs/checks/walking.py", "packs/checks/scope.py",
    "packs/checks/workflow.py", "packs/checks/matter.py", "packs/checks/allocation.py", "packs/loader.py",
    "packs/problems.py", "packs/summary.py", "packs/versions.py",
    "packs/seeding.py", "forms/errors.py", "forms/formats.py", "forms/render.py", "forms/schema.py",
    "forms/rules.py", "calendars/workdays.py", "calendars/overrides.py", "cli/__init__.py", "cli/tick.py",
    "cli/allocation.py", "cli/serve.py",
]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _msgids(path: Path) -> list[tuple[int, str, set[str] | None]]:
    """(line, msgid, keyword names or None when not a direct call) of each catalogue call."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else None
        args = node.args[1:] if name == "in_locale" else node.args if name in ("_", "lazy", "_seed") else []
        if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
            found.append((node.lineno, args[0].value, {k.arg for k in node.keywords if k.arg}))
    return found


ALL = [(f, line, msgid, kws) for f in FILES for line, msgid, kws in _msgids(ENGINE / f)]


def test_the_files_use_the_catalogue():
    assert len({msgid for *_, msgid, _kws in ALL}) > 150


@pytest.mark.parametrize("name", FILES)
def test_no_chinese_literal_is_left(name):
    assert literals(ENGINE / name) == []


@pytest.mark.parametrize(("name", "line", "msgid", "kws"), ALL, ids=[f"{a[0]}:{a[1]}" for a in ALL])
def test_every_msgid_has_its_chinese_with_the_same_placeholders(name, line, msgid, kws):
    chinese = translations("zh_CN").gettext(msgid)
    assert chinese != msgid, f"{name}:{line}: {msgid!r} has no zh_CN text"
    assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(chinese)) == kws


def test_every_holiday_name_has_its_chinese_name():
    names = [in_locale("zh_CN", english) for english in HOLIDAY_NAMES]
    assert all(re.fullmatch(r"[\u4e00-\u9fff0-9]+", n) for n in names), names
    assert in_locale("zh_CN", "National Day") == "国庆节"
