"""The fonts read in place give what fontTools reads: every character map entry, metric and glyph.

`documents.fonts` keeps a font file open and reads its tables on demand instead of decoding it with
fontTools (≈ 30 MiB of objects for the vendored 4.6 MB face). These tests hold the two readings
equal on the vendored font (and on the Debian fallbacks when installed): the glyph index of every
code point U+0000–U+10FFFF through the font's best map (format 12) and through its BMP map
(format 4), the horizontal metrics and the glyph bytes of every glyph. Then a document font built
for a mixed text maps each character to the same outline and advance as the source font.
"""

from __future__ import annotations

import io
import os
import struct

import pytest
from fontTools.ttLib import TTFont

from formflow.documents import fonts, pdf

FONTS = [pdf.DEFAULT_FONT, *fonts.DEBIAN_FALLBACKS]
ALL = range(0x110000)


def _present(path):
    if not path.is_file():
        pytest.skip(f"{path} is not installed")
    return path


@pytest.fixture(params=FONTS, ids=lambda p: p.name)
def both(request):
    path = _present(request.param)
    return TTFont(str(path), lazy=True), fonts._source(str(path))


def test_the_best_map_gives_the_glyph_fonttools_gives_for_every_code_point(both):
    reference, mapped = both
    order = {name: gid for gid, name in enumerate(reference.getGlyphOrder())}
    best = {cp: order[name] for cp, name in reference.getBestCmap().items()}
    assert len(best) > 1000
    assert [cp for cp in ALL if mapped.cmap.get(cp) != best.get(cp, 0)] == []


def test_the_bmp_map_format_4_reads_the_same_as_fonttools(both):
    reference, mapped = both
    subtable = reference["cmap"].getcmap(3, 1)
    assert subtable is not None and subtable.format == 4
    order = {name: gid for gid, name in enumerate(reference.getGlyphOrder())}
    want = {cp: order[name] for cp, name in subtable.cmap.items()}
    table = mapped.table("cmap")
    at = next(sub for k in range(struct.unpack_from(">H", table, 2)[0])
              for platform, encoding, sub in [struct.unpack_from(">HHI", table, 4 + 8 * k)]
              if (platform, encoding) == (3, 1))
    bmp = fonts._Cmap.__new__(fonts._Cmap)
    bmp.table = table
    assert bmp.read(at) and bmp.format == 4
    assert [cp for cp in range(0x10000) if bmp.get(cp) != want.get(cp, 0)] == []


def test_metrics_and_glyph_bytes_are_the_font_tables(both):
    reference, mapped = both
    hmtx, glyf = reference["hmtx"], reference["glyf"]
    assert mapped.upem == reference["head"].unitsPerEm
    for gid, name in enumerate(reference.getGlyphOrder()):
        assert mapped.metrics(gid) == tuple(hmtx[name]), name
        stored = glyf.glyphs[name]
        raw = stored.data if hasattr(stored, "data") else stored.compile(glyf, recalcBBoxes=False)
        assert mapped.glyph_data(gid) == raw, name


def test_a_document_font_prints_each_character_with_the_source_glyph():
    text = "不符合住房保障条件通知书 A2026-00012 欧阳小燕 ，。《》（）〔〕 0123 Ábc"
    built = TTFont(io.BytesIO(fonts.document_font(text, pdf.DEFAULT_FONT)))
    source = TTFont(str(pdf.DEFAULT_FONT), lazy=True)
    got, want = built.getBestCmap(), source.getBestCmap()
    for ch in set(text):
        new, old = got[ord(ch)], want[ord(ch)]
        assert built["hmtx"][new] == source["hmtx"][old], ch
        a, b = built["glyf"][new], source["glyf"][old]
        a.expand(built["glyf"])
        b.expand(source["glyf"])
        assert a.numberOfContours == b.numberOfContours, ch
        if a.numberOfContours > 0:
            assert list(a.coordinates) == list(b.coordinates), ch


def test_a_changed_font_file_is_read_again(tmp_path):
    copy = tmp_path / "font.ttf"
    copy.write_bytes(pdf.DEFAULT_FONT.read_bytes())
    first = fonts._source(str(copy))
    assert fonts._source(str(copy)) is first
    copy.write_bytes(pdf.DEFAULT_FONT.read_bytes()[:-4] + b"\0\0\0\0")  # same size, another mtime
    os.utime(copy, ns=(1, 1))
    assert fonts._source(str(copy)) is not first


def test_a_font_that_is_not_truetype_is_refused(tmp_path):
    cff = tmp_path / "font.otf"
    cff.write_bytes(b"OTTO" + bytes(64))
    with pytest.raises(ValueError, match="not TrueType"):
        fonts._source(str(cff))
