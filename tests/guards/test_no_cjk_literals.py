"""Every word a person reads comes from the catalogue: no Chinese literal in the engine or the page templates.

Python: string constants that are not docstrings (`cjk_literals.py` decides).
Templates under renderers/html: text outside `{{ _('…') }}` calls and comments.
The notices under renderers/documents are legal documents of the authority and
stay in its language; a language's own name in the language switch is its endonym.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cjk_literals import CJK, literals

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = ROOT / "platform" / "formflow"
PAGES = ROOT / "renderers" / "html"
#: Endonyms of the languages offered by the header's switch (never translated).
ENDONYMS = {"中文"}

PY_FILES = sorted(p for p in PLATFORM.rglob("*.py") if "migrations" not in p.parts)
PAGE_FILES = sorted(PAGES.rglob("*.html"))


@pytest.mark.parametrize("path", PY_FILES, ids=lambda p: str(p.relative_to(PLATFORM)))
def test_no_chinese_literal_in_python(path: Path):
    found = literals(path)
    assert not found, "\n".join(f"{path.relative_to(ROOT)}:{line}: {text[:60]!r}" for line, text in found)


def _visible_text(source: str) -> str:
    source = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
    source = re.sub(r"_\(\s*(['\"]).*?(?<!\\)\1", "_(", source, flags=re.S)
    for word in ENDONYMS:
        source = source.replace(word, "")
    return source


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: str(p.relative_to(PAGES)))
def test_no_chinese_outside_the_catalogue_in_pages(path: Path):
    text = _visible_text(path.read_text(encoding="utf-8"))
    lines = [f"{n}: {line.strip()[:80]}" for n, line in enumerate(text.splitlines(), 1) if CJK.search(line)]
    assert not lines, f"{path.relative_to(ROOT)}\n" + "\n".join(lines)
