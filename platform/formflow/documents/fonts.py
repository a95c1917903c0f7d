"""The font of one document: only the glyphs it prints, main font first, then fallbacks.

Why hand-written: fpdf2 parses the whole font file for every document and
subsets it again at output (≈95 % of a notice's time with a 4.6 MB CJK face).
Here each source font is mapped read-only once per process (`_source`, cached by path,
size and modification time) and read in place: a glyph's bytes, metrics and character
map entry come from the file's tables when a document needs them (no fontTools object
per glyph: the 4.6 MB face cost ≈ 30 MiB of Python objects that way), and a
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
import struct
import sys
import threading
import unicodedata
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

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
    """One font file, kept open and read in place: nothing decoded for every glyph.

    A glyph is its index (`gid`); its bytes are read from the file when a document needs them
    (under `_LOCK`), its metrics and character map entry from the hmtx and cmap tables kept as
    bytes. A 4.6 MB face costs ≈ 0.6 MB, not a fontTools object per glyph; a file changed
    under an open font gives short reads (an error), never a crash."""

    path: str
    file: BinaryIO
    tables: dict[str, tuple[int, int]]  # tag -> (offset, length)
    upem: int
    loca: array  # glyph data offsets in glyf, one more than the glyphs
    hmtx: bytes
    hmetrics: int
    cmap: _Cmap

    def read(self, offset: int, length: int) -> bytes:
        self.file.seek(offset)
        return self.file.read(length)

    def table(self, tag: str) -> bytes:
        return self.read(*self.tables[tag])

    def glyph_data(self, gid: int) -> bytes:
        start = self.loca[gid]
        return self.read(self.tables["glyf"][0] + start, self.loca[gid + 1] - start)

    def metrics(self, gid: int) -> tuple[int, int]:
        """(advance width, left side bearing) of glyph `gid`, as the font's hmtx table holds them."""
        count = self.hmetrics
        if gid < count:
            return struct.unpack_from(">Hh", self.hmtx, 4 * gid)
        advance = struct.unpack_from(">H", self.hmtx, 4 * (count - 1))[0]
        return advance, struct.unpack_from(">h", self.hmtx, 4 * count + 2 * (gid - count))[0]

    def getGlyphName(self, gid: int) -> int:  # noqa: N802 - fontTools' name: components keep their gid
        return gid

    extended = False  # what fontTools' glyf table says when it expands a glyph (`Glyph.expand`)


class _Cmap:
    """The font's best Unicode character map (full repertoire, else BMP), looked up per character.

    Format 12: sorted groups (first, last, first glyph); format 4: sorted segments (first,
    last, delta, range offset), as arrays searched by bisection."""

    def __init__(self, table: bytes) -> None:
        self.table = table
        found = {}
        for k in range(struct.unpack_from(">H", table, 2)[0]):
            platform, encoding, at = struct.unpack_from(">HHI", table, 4 + 8 * k)
            found[(platform, encoding)] = at
        for key in ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0)):  # fontTools' getBestCmap
            if key in found and self.read(found[key]):
                return
        raise ValueError("PDF font has no Unicode character map of format 4 or 12")

    def read(self, at: int) -> bool:
        """Take the subtable at `at` (from the table's start) when it is of format 12 or 4."""
        kind = struct.unpack_from(">H", self.table, at)[0]
        if kind == 12:
            count = struct.unpack_from(">I", self.table, at + 12)[0]
            groups = struct.unpack_from(f">{3 * count}I", self.table, at + 16)
            self.format, self.firsts, self.lasts = 12, array("I", groups[0::3]), array("I", groups[1::3])
            self.starts = array("I", groups[2::3])
            return True
        if kind == 4:
            segs = struct.unpack_from(">H", self.table, at + 6)[0] // 2
            self.lasts = array("I", struct.unpack_from(f">{segs}H", self.table, at + 14))
            self.firsts = array("I", struct.unpack_from(f">{segs}H", self.table, at + 16 + 2 * segs))
            self.deltas = array("i", struct.unpack_from(f">{segs}h", self.table, at + 16 + 4 * segs))
            self.ranges_at = at + 16 + 6 * segs
            self.ranges = array("I", struct.unpack_from(f">{segs}H", self.table, self.ranges_at))
            self.format = 4
            return True
        return False

    def get(self, cp: int) -> int:
        """The glyph index of `cp`; 0 (.notdef) when the font does not map it."""
        k = bisect_right(self.firsts, cp) - 1
        if k < 0 or cp > self.lasts[k]:
            return 0
        first = self.firsts[k]
        if self.format == 12:
            return self.starts[k] + cp - first
        if first == 0xFFFF:  # the segment that ends the table maps nothing
            return 0
        delta, offset = self.deltas[k], self.ranges[k]
        if offset == 0:
            return (cp + delta) & 0xFFFF
        gid = struct.unpack_from(">H", self.table, self.ranges_at + 2 * k + offset + 2 * (cp - first))[0]
        return (gid + delta) & 0xFFFF if gid else 0

    def __contains__(self, cp: int) -> bool:
        return self.get(cp) != 0


def _source(path: str) -> _Source:
    """A font file opened once per process (per path, size and modification time)."""
    stat = os.stat(path)
    return _opened(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=8)
def _opened(path: str, _size: int, _mtime: int) -> _Source:
    fh = open(path, "rb")  # noqa: SIM115 - kept open with the cached font, closed when it is dropped
    header = fh.read(12)
    if header[:4] not in (b"\x00\x01\x00\x00", b"true"):
        fh.close()
        raise ValueError(f"PDF font {path!r} is not TrueType (glyf); use a .ttf font")
    count = struct.unpack_from(">H", header, 4)[0]
    directory = fh.read(16 * count)
    tables = {}
    for k in range(count):
        tag, _checksum, offset, length = struct.unpack_from(">4sIII", directory, 16 * k)
        tables[tag.decode("latin-1")] = (offset, length)
    if "glyf" not in tables or "loca" not in tables:
        fh.close()
        raise ValueError(f"PDF font {path!r} is not TrueType (glyf); use a .ttf font")
    source = _Source(path, fh, tables, 0, array("I"), b"", 0, None)  # type: ignore[arg-type]
    head, hhea = source.table("head"), source.table("hhea")
    source.upem, long_offsets = struct.unpack_from(">H", head, 18)[0], struct.unpack_from(">h", head, 50)[0]
    glyphs = struct.unpack_from(">H", source.table("maxp"), 4)[0]
    loca = array("I" if long_offsets else "H")
    loca.frombytes(source.read(tables["loca"][0], loca.itemsize * (glyphs + 1)))
    if sys.byteorder == "little":
        loca.byteswap()
    source.loca = loca if long_offsets else array("I", (2 * x for x in loca))
    source.hmetrics = struct.unpack_from(">H", hhea, 34)[0]
    source.hmtx = source.table("hmtx")
    source.cmap = _Cmap(source.table("cmap"))
    return source


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
    from fontTools.ttLib import TTFont, newTable  # fontTools is loaded by the first document only
    from fontTools.ttLib.tables.DefaultTable import DefaultTable

    out = TTFont(recalcBBoxes=False, recalcTimestamp=False)
    order = [".notdef"]
    names: dict[tuple[str, int], str] = {(base.path, 0): ".notdef"}  # glyph 0 is .notdef in TrueType
    glyphs: dict[str, Any] = {".notdef": _glyph(base, 0, base, names, order, {})}
    metrics: dict[str, tuple[int, int]] = {".notdef": base.metrics(0)}
    cmap: dict[int, str] = {}
    for cp, src in picks.items():
        cmap[cp] = _add(base, src, src.cmap.get(cp), names, order, glyphs, metrics)
    out.setGlyphOrder(order)
    for tag in _REAL:
        table = newTable(tag)
        table.decompile(base.table(tag), out)
        out[tag] = table
    for tag in _RAW:
        if tag in base.tables:
            raw = DefaultTable(tag)
            raw.data = base.table(tag)
            out[tag] = raw
    post = DefaultTable("post")
    post.data = b"\x00\x03\x00\x00" + base.table("post")[4:32]  # format 3: no glyph names
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


def _add(base: _Source, src: _Source, gid: int, names: dict[tuple[str, int], str], order: list[str],
         glyphs: dict[str, Any], metrics: dict[str, tuple[int, int]]) -> str:
    """Add glyph `gid` of `src` (and its components) once; its name in the new font."""
    key = (src.path, gid)
    if key not in names:
        new = names[key] = f"g{len(order)}"
        order.append(new)
        glyphs[new] = _glyph(src, gid, base, names, order, glyphs, metrics)
        scale = base.upem / src.upem
        adv, lsb = src.metrics(gid)
        metrics[new] = (round(adv * scale), round(lsb * scale))
    return names[key]


def _glyph(src: _Source, gid: int, base: _Source, names: dict[tuple[str, int], str], order: list[str],
           glyphs: dict[str, Any], metrics: dict[str, tuple[int, int]] | None = None) -> Any:
    """One glyph for the new font: the main font's simple glyphs as their bytes; composites renamed;
    a fallback's glyphs unhinted and scaled to the main font's em."""
    from fontTools.ttLib.tables._g_l_y_f import Glyph

    glyph = Glyph(src.glyph_data(gid))
    if not hasattr(glyph, "data") or (glyph.data[:2] != b"\xff\xff" and src is base):
        return glyph
    glyph.expand(src)  # components name their glyph by index (`_Source.getGlyphName`)
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
    from fontTools.ttLib import newTable
    from fontTools.ttLib.tables._c_m_a_p import cmap_format_4, cmap_format_12

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
