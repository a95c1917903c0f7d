"""The font of one document: only the glyphs it prints, main font first, then fallbacks.

Why hand-written: fpdf2 parses the whole font file for every document and
subsets it again at output (≈95 % of a notice's time with a 4.6 MB CJK face).
Here each source font is parsed once per process (`_source`, cached), and a
document gets a tiny TrueType font built from the glyphs of the characters it
uses: the main font's glyph where it has one, else the first fallback's
(scaled to the main font's em). fpdf2 then reads and subsets a font of a few
hundred glyphs. A character no font has is never printed blank: `MissingGlyphs`
(a Refusal with a code) names it, and the refusal is logged.

Fallback fonts: `FORMFLOW_PDF_FALLBACK_FONTS` (paths separated by the OS path
separator), else Debian's `fonts-hanazono` (HanaMinA, HanaMinB: CJK Ext. A–F),
when installed.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables._c_m_a_p import cmap_format_4, cmap_format_12
from fontTools.ttLib.tables._g_l_y_f import Glyph
from fontTools.ttLib.tables.DefaultTable import DefaultTable

from formflow.text.catalogue import _
from formflow.text.errors import Refusal

LOG = logging.getLogger(__name__)
FALLBACK_ENV = "FORMFLOW_PDF_FALLBACK_FONTS"
DEBIAN_FALLBACKS = (
    Path("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf"),
    Path("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf"),
)
_LOCK = threading.RLock()


class MissingGlyphs(Refusal):
    """A document would print characters that no font has."""

    code = "document.glyph_missing"
    status = 422


@dataclass
class _Source:
    path: str
    font: Any  # fontTools TTFont (lazy)
    upem: int
    cmap: dict[int, str]


@lru_cache(maxsize=8)
def _source(path: str) -> _Source:
    """A font file parsed once per process."""
    font = TTFont(path, lazy=True, recalcTimestamp=False)
    if "glyf" not in font:
        raise ValueError(f"PDF font {path!r} is not TrueType (glyf); use a .ttf font")
    return _Source(path, font, int(font["head"].unitsPerEm), dict(font.getBestCmap()))


def fallback_fonts() -> list[Path]:
    """The configured fallback fonts that exist."""
    raw = os.environ.get(FALLBACK_ENV)
    paths = [Path(p) for p in raw.split(os.pathsep) if p] if raw is not None else list(DEBIAN_FALLBACKS)
    return [p for p in paths if p.is_file()]


def _printable(ch: str) -> bool:
    return unicodedata.category(ch)[0] not in ("C", "Z") or ch in (" ", chr(0x3000))  # ideographic space


def document_font(chars: Iterable[str], main: Path, fallbacks: Sequence[Path] = ()) -> bytes:
    """TrueType bytes holding the glyph of every printable character in `chars`."""
    wanted = sorted({c for c in chars if _printable(c)} | {" "})
    with _LOCK:
        base = _source(str(main))
        picks: dict[int, _Source] = {}
        missing: list[str] = []
        for ch in wanted:
            cp = ord(ch)
            if cp in base.cmap:
                picks[cp] = base
                continue
            for path in fallbacks:
                src = _source(str(path))
                if cp in src.cmap:
                    picks[cp] = src
                    break
            else:
                missing.append(ch)
        if missing:
            text = "".join(missing)
            codes = " ".join(f"U+{ord(c):04X}" for c in missing)
            LOG.error("document refused: no font has %s (%s); fallbacks: %s", text, codes,
                      [str(p) for p in fallbacks] or "none installed")
            raise MissingGlyphs(
                _("This document cannot be printed: no installed font has the characters "
                  "%(chars)s (%(codes)s). The administrator must install a fuller font "
                  "(see renderers/fonts/README.md); nothing was issued.", chars=text, codes=codes),
                chars=text, codes=codes)
        return _build(base, picks)


_REAL = ("head", "hhea", "maxp")  # tables the font build changes; the others are copied as bytes
_RAW = ("OS/2", "name", "cvt ", "fpgm", "prep", "gasp")


def _build(base: _Source, picks: dict[int, _Source]) -> bytes:
    out = TTFont(recalcBBoxes=False, recalcTimestamp=False)
    order = [".notdef"]
    names: dict[tuple[str, str], str] = {(base.path, ".notdef"): ".notdef"}
    glyphs: dict[str, Any] = {".notdef": _glyph(base, ".notdef", base, names, order, {})}
    metrics: dict[str, tuple[int, int]] = {".notdef": base.font["hmtx"][".notdef"]}
    cmap: dict[int, str] = {}
    for cp, src in picks.items():
        cmap[cp] = _add(base, src, src.cmap[cp], names, order, glyphs, metrics)
    out.setGlyphOrder(order)
    for tag in _REAL:
        table = newTable(tag)
        table.decompile(base.font.reader[tag], out)
        out[tag] = table
    for tag in _RAW:
        if tag in base.font.reader:
            raw = DefaultTable(tag)
            raw.data = base.font.reader[tag]
            out[tag] = raw
    post = DefaultTable("post")
    post.data = b"\x00\x03\x00\x00" + base.font.reader["post"][4:32]  # format 3: no glyph names
    out["post"] = post
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    out["glyf"] = glyf
    out["loca"] = newTable("loca")
    for name in order:  # bounds of the fallback glyphs, scaled (the main font's keep theirs)
        if getattr(glyphs[name], "scaled", False):
            glyphs[name].recalcBounds(glyf)
    hmtx = newTable("hmtx")
    hmtx.metrics = metrics
    out["hmtx"] = hmtx
    out["maxp"].numGlyphs = len(order)
    out["cmap"] = _cmap(cmap)
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


def _add(base: _Source, src: _Source, name: str, names: dict[tuple[str, str], str], order: list[str],
         glyphs: dict[str, Any], metrics: dict[str, tuple[int, int]]) -> str:
    """Add glyph `name` of `src` (and its components) once; its name in the new font."""
    key = (src.path, name)
    if key not in names:
        new = names[key] = f"g{len(order)}"
        order.append(new)
        glyphs[new] = _glyph(src, name, base, names, order, glyphs, metrics)
        scale = base.upem / src.upem
        adv, lsb = src.font["hmtx"][name]
        metrics[new] = (round(adv * scale), round(lsb * scale))
    return names[key]


def _glyph(src: _Source, name: str, base: _Source, names: dict[tuple[str, str], str], order: list[str],
           glyphs: dict[str, Any], metrics: dict[str, tuple[int, int]] | None = None) -> Any:
    """One glyph for the new font: the main font's simple glyphs as their bytes; composites renamed;
    a fallback's glyphs unhinted and scaled to the main font's em."""
    table = src.font["glyf"]
    stored = table.glyphs[name]
    glyph = Glyph(stored.data if hasattr(stored, "data") else stored.compile(table, recalcBBoxes=False))
    if not hasattr(glyph, "data") or (glyph.data[:2] != b"\xff\xff" and src is base):
        return glyph
    glyph.expand(table)
    if src is not base:
        glyph.removeHinting()
        glyph.scaled = True
    scale = base.upem / src.upem
    if glyph.isComposite():
        for comp in glyph.components:
            comp.glyphName = _add(base, src, comp.glyphName, names, order, glyphs, metrics or {})
            comp.x, comp.y = round(comp.x * scale), round(comp.y * scale)
    elif glyph.numberOfContours and scale != 1.0:
        glyph.coordinates.scale((scale, scale))
        glyph.coordinates.toInt()
    return glyph


def _cmap(mapping: dict[int, str]) -> Any:
    table = newTable("cmap")
    table.tableVersion = 0
    bmp = cmap_format_4(4)
    bmp.platformID, bmp.platEncID, bmp.language = 3, 1, 0
    bmp.cmap = {cp: g for cp, g in mapping.items() if cp <= 0xFFFF}
    table.tables = [bmp]
    if any(cp > 0xFFFF for cp in mapping):
        full = cmap_format_12(12)
        full.platformID, full.platEncID, full.format, full.reserved, full.language = 3, 10, 12, 0, 0
        full.length, full.nGroups = 0, 0
        full.cmap = dict(mapping)
        table.tables.append(full)
    return table
