"""The engine stays generic, and `platform/` never shadows the standard library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "platform"
FIXED_WORDS = [
    "梅州", "梅江", "江西", "赣", "低保", "公租房", "民政局", "房管局", "住建",
    "meizhou", "jiangxi", "meijiang",
]


def test_platform_has_no_init_file():
    assert not (ENGINE / "__init__.py").exists()


def test_import_platform_gives_the_standard_library():
    code = (
        "import platform, formflow; "
        "assert platform.system() and platform.python_version(), 'stdlib platform missing'; "
        "assert not hasattr(platform, '__path__'), 'platform is a package'; print(platform.__file__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "lib" in out.stdout and str(ENGINE) not in out.stdout


def _pack_words() -> set[str]:
    """Names a pack decides: offices, categories, materials, roles' titles, pack ids."""
    words: set[str] = set()
    for offices in ROOT.glob("seeds/*/offices.yaml"):
        stack = list(yaml.safe_load(offices.read_text(encoding="utf-8"))["offices"])
        while stack:
            node = stack.pop()
            words.add(node["name"])
            stack.extend(node.get("children") or [])
    for materials in ROOT.glob("schemas/*/*/materials.yaml"):
        doc = yaml.safe_load(materials.read_text(encoding="utf-8"))
        words |= {k["title"] for k in doc.get("kinds", {}).values()}
        words |= {c["title"] for c in doc.get("categories", {}).values() if c.get("title")}
    for pack in ROOT.glob("schemas/*/pack.yaml"):
        words.add(pack.parent.name)
    return {w for w in words if len(w) >= 3}


@pytest.mark.parametrize("source", sorted(ENGINE.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_source_names_no_locality_category_material_or_office(source):
    text = source.read_text(encoding="utf-8")
    found = sorted(w for w in FIXED_WORDS + sorted(_pack_words()) if w.lower() in text.lower())
    assert found == [], f"{source.relative_to(ROOT)} names {found}: add a format feature instead"


def test_the_guard_knows_many_pack_words():
    """The dynamic word list is really built from the packs (a guard that cannot fail is no guard)."""
    assert len(_pack_words()) > 30
