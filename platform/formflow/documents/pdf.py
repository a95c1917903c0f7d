"""Numbered notices and letters: Jinja templates rendered to PDF.

A template (looked up over a list of folders, a pack's override first) yields
a small HTML subset — h1 h2 h3 p br strong/b ul ol li table tr th td img — and
a small walker draws it with fpdf2. Jinja autoescapes, so a person's typed text
is data, never markup. The same inputs give the same bytes: the PDF creation
date is the issue date, so a stored notice can be re-rendered identically.

Font: WenQuanYi Micro Hei (Apache-2.0), vendored in renderers/fonts/. Chosen
because it is TrueType (glyf): fpdf2 embeds a subset with a ToUnicode map that
pypdf reads back exactly (the CFF-based Noto/Source Han CJK fonts came back
with stray NULs), it holds Latin as well as the 20 932 basic CJK ideographs in
one 4.6 MB face (Droid Sans Fallback lacks ASCII digits and letters), and
shipping it in the repository needs no apt package nor a little-known PyPI
font package on a fresh machine or in CI. `FORMFLOW_PDF_FONT` or the
`font_path` argument selects another .ttf/.otf/.ttc.
"""

from __future__ import annotations

import io
import os
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from formflow.documents.fonts import document_font, fallback_fonts
from formflow.text.catalogue import DEFAULT_LOCALE, in_locale

if TYPE_CHECKING:  # fpdf2 (and the fontTools it loads, ≈ 25 MiB) is imported by the first render only
    from fpdf import FPDF

FONT_ENV = "FORMFLOW_PDF_FONT"
DEFAULT_FONT = Path(__file__).resolve().parents[3] / "renderers" / "fonts" / "wqy-microhei.ttf"
DOCUMENTS_DIR = Path(__file__).resolve().parents[3] / "renderers" / "documents"

_FAMILY = "formflow-cjk"
_BODY_PT = 14.0
_SIZES = {"h1": 20.0, "h2": 16.0, "h3": 14.0}
_LINE = 1.6  # line height as a multiple of the font size
_MARGINS = (28.0, 30.0, 26.0, 25.0)  # left, top, right, bottom in mm
_SPACE = re.compile(r"[ \t\n\r\f]+")  # HTML whitespace; keeps U+3000 (ideographic space)
_CELL_TAGS = {"strong", "b", "span", "br", "em", "i", "u", "td", "th", "tr"}
_ALIGNS = {"left": "L", "center": "C", "right": "R"}  # fpdf2's Align, by name (`_align`)


# --- numbering and dates ------------------------------------------------------------------


def format_number(pattern: str, *, year: int, seq: int, **extra: Any) -> str:
    """Fill a configured numbering pattern such as "X({year}){seq:04d}" (the authority's brackets and number word)."""
    fields = {"year": year, "seq": seq, **extra}
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ValueError(f"numbering pattern {pattern!r} is malformed: {exc}") from None
    for _text, name, spec, _conv in parsed:
        if name is None:
            continue
        if name not in fields:
            known = ", ".join(sorted(fields))
            raise ValueError(f"numbering pattern {pattern!r} has unknown field {{{name}}}; "
                             f"known: {known}")
        if spec and "{" in spec:
            raise ValueError(f"numbering pattern {pattern!r} nests a field in {{{name}:{spec}}}")
    try:
        return pattern.format(**fields)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"numbering pattern {pattern!r} does not format: {exc}") from None


def as_date(value: Any) -> date:
    """A date from a date, a datetime or an ISO string."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise ValueError(f"not a date: {value!r}")


def cn_date(value: Any) -> str:
    """2025-03-01 → the Chinese written date (year, month, day without leading zeros)."""
    d = as_date(value)
    return in_locale(DEFAULT_LOCALE, "%(month)s %(day)s, %(year)s", year=d.year, month=d.month, day=d.day)


# --- HTML subset → blocks -----------------------------------------------------------------


@dataclass
class _Block:
    kind: str  # h1 h2 h3 p li img table
    align: str = "left"
    runs: list[tuple[str, bool]] = field(default_factory=list)
    marker: str = ""
    depth: int = 0
    attrs: dict[str, str] = field(default_factory=dict)
    rows: list[list[_Cell]] = field(default_factory=list)


@dataclass
class _Cell:
    text: str = ""
    heading: bool = False
    colspan: int = 1
    width: str = ""
    align: str = "left"


class _Walker(HTMLParser):
    """Turn the HTML subset into a flat list of blocks; reject anything else."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self.block: _Block | None = None
        self.bold = 0
        self.lists: list[list[Any]] = []  # [tag, counter]
        self.table: _Block | None = None
        self.cell: _Cell | None = None
        self.align: list[str] = []

    def _align(self, attrs: dict[str, str]) -> str:
        align = (attrs.get("align") or (self.align[-1] if self.align else "left")).lower()
        if align not in _ALIGNS:
            raise ValueError(f"unsupported align={align!r}")
        return align

    def _open(self, kind: str, attrs: dict[str, str]) -> None:
        self._close()
        align = self._align(attrs) if attrs.get("align") or kind != "h1" else "center"
        self.block = _Block(kind, align=align)
        self.blocks.append(self.block)

    def _close(self) -> None:
        self.block = None

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if tag in ("html", "body", "section", "header", "footer"):
            return
        if self.cell is not None and tag not in _CELL_TAGS:
            raise ValueError(f"<{tag}> is not supported inside a table cell")
        if tag == "div":
            self._close()
            self.align.append(self._align(attrs))
        elif tag in ("h1", "h2", "h3", "p"):
            self._open(tag, attrs)
        elif tag in ("ul", "ol"):
            self._close()
            self.lists.append([tag, 0])
        elif tag == "li":
            if not self.lists:
                raise ValueError("<li> outside <ul>/<ol>")
            self.lists[-1][1] += 1
            kind, count = self.lists[-1]
            self._open("li", attrs)
            assert self.block is not None
            self.block.marker = f"{count}." if kind == "ol" else "•"
            self.block.depth = len(self.lists)
        elif tag == "table":
            self._close()
            self.table = _Block("table", attrs=attrs)
            self.blocks.append(self.table)
        elif tag == "tr":
            if self.table is None:
                raise ValueError("<tr> outside <table>")
            self.table.rows.append([])
        elif tag in ("td", "th"):
            if self.table is None or not self.table.rows:
                raise ValueError(f"<{tag}> outside <tr>")
            self.cell = _Cell(heading=tag == "th", colspan=int(attrs.get("colspan") or 1),
                              width=attrs.get("width", ""), align=self._align(attrs))
            self.table.rows[-1].append(self.cell)
        elif tag in ("strong", "b"):
            self.bold += 1
        elif tag == "br":
            self._text("\n", raw=True)
        elif tag == "img":
            self._close()
            self.blocks.append(_Block("img", align=self._align(attrs), attrs=attrs))
        elif tag in ("thead", "tbody", "span", "em", "i", "u"):
            return
        else:
            raise ValueError(f"unsupported tag <{tag}> in a document template")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("strong", "b"):
            self.bold = max(0, self.bold - 1)
        elif tag in ("h1", "h2", "h3", "p", "li"):
            self._close()
        elif tag == "div":
            self._close()
            if self.align:
                self.align.pop()
        elif tag in ("ul", "ol"):
            self._close()
            if self.lists:
                self.lists.pop()
        elif tag in ("td", "th"):
            self.cell = None
        elif tag == "table":
            self.table = self.cell = None

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self._text(data)

    def _text(self, data: str, raw: bool = False) -> None:
        text = data if raw else _SPACE.sub(" ", data)
        if self.cell is not None:
            self.cell.text += text
            return
        if self.table is not None:
            return  # whitespace between rows and cells
        if self.block is None:
            if not raw and not text.strip(" "):
                return
            self.block = _Block("p", align=self.align[-1] if self.align else "left")
            self.blocks.append(self.block)
        self.block.runs.append((text, self.bold > 0))


def _tidy(runs: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Drop the spaces HTML source adds around lines and breaks."""
    out: list[tuple[str, bool]] = []
    for text, bold in runs:
        if out and out[-1][0].endswith("\n"):
            text = text.lstrip(" ")
        if text == "\n" and out:
            out[-1] = (out[-1][0].rstrip(" "), out[-1][1])
        if text:
            out.append((text, bold))
    if out:
        out[0] = (out[0][0].lstrip(" "), out[0][1])
        out[-1] = (out[-1][0].rstrip(" "), out[-1][1])
        if len(out) > 1 and out[-1][0] == "\n":
            out.pop()  # a trailing <br> ends the block without an empty line
    return [r for r in out if r[0]]


# --- drawing ------------------------------------------------------------------------------


def _align(name: str) -> Any:
    from fpdf.enums import Align

    return Align[_ALIGNS[name]]


@lru_cache(maxsize=1)
def _document_class() -> Any:
    """The page class, made at the first render (importing fpdf2 then, not with this module)."""
    from fpdf import FPDF

    class _Document(FPDF):
        """A4 page with the notice number, the issue date and the page number in the footer."""

        def __init__(self, number: str | None, issued: str) -> None:
            super().__init__(orientation="P", unit="mm", format="A4")
            self.notice_number = number
            self.issued = issued

        def footer(self) -> None:
            self.set_y(-18)
            self.set_font(_FAMILY, size=9)
            self.set_text_color(90)
            width = self.w - self.l_margin - self.r_margin
            y = self.get_y()
            if self.notice_number:
                self.cell(width, 5, self.notice_number, align="L")
            self.set_xy(self.l_margin, y)
            self.cell(width, 5, f"— {self.page_no()} —", align="C")
            self.set_xy(self.l_margin, y)
            self.cell(width, 5, self.issued, align="R")
            self.set_text_color(0)

    return _Document


def _size_mm(value: str, what: str) -> float:
    try:
        size = float(value.removesuffix("mm"))
    except ValueError:
        raise ValueError(f"{what}={value!r} is not a size in mm") from None
    if size <= 0:
        raise ValueError(f"{what}={value!r} must be positive")
    return size


# Chinese line-breaking rules (kinsoku): no line starts with a closing mark, none ends with an opening one.
# Code points (typography, not words): full-width and CJK closing marks, then their ASCII kin; opening marks.
_NO_START = {chr(c) for c in (
    0xFF0C, 0x3002, 0x3001, 0xFF1B, 0xFF1A, 0xFF1F, 0xFF01, 0xFF09, 0x300B, 0x300D, 0x300F, 0x3015, 0x3011,
    0x3009, 0x2019, 0x201D, 0x2026, 0x2014, 0x00B7, 0x0025, 0x002C, 0x002E, 0x003B, 0x003A, 0x003F, 0x0021,
    0x0029, 0x005D, 0x007D, 0x00B0)}
_NO_END = {chr(c) for c in (
    0xFF08, 0x300A, 0x300C, 0x300E, 0x3014, 0x3010, 0x3008, 0x2018, 0x201C, 0x0028, 0x005B, 0x007B)}
_WORD = re.compile(r"[A-Za-z0-9._\-/@*#%+]")


def _break_lines(pdf: FPDF, text: str, avail: float) -> list[tuple[int, int, bool]]:
    """Split text into (start, end, wrapped) lines that fit `avail` mm, keeping the line-breaking rules and words."""
    lines: list[tuple[int, int, bool]] = []
    pos = 0
    for hard in text.split("\n"):
        start, n = pos, pos + len(hard)
        if not hard:
            lines.append((pos, pos, False))  # a <br> on its own: an empty line
        while start < n:
            width, end = 0.0, start
            while end < n:
                w = pdf.get_string_width(text[end])
                if width + w > avail and end > start:
                    break
                width += w
                end += 1
            if end < n:
                cut = end
                while cut > start + 1 and (text[cut] in _NO_START or text[cut - 1] in _NO_END):
                    cut -= 1
                word = cut
                while word > start and _WORD.match(text[word - 1]) and _WORD.match(text[word]):
                    word -= 1
                end = word if word > start else cut
            lines.append((start, end, end < n))
            start = end
            while start < n and text[start] == " ":
                start += 1
        pos = n + 1
    return lines


def _draw_runs(pdf: FPDF, block: _Block, size: float) -> None:
    """Draw a block's runs: own line breaking, CJK justification, faux bold by stroking."""
    from fpdf.enums import TextMode

    runs = _tidy(block.runs)
    if not runs:
        return
    heading = block.kind in _SIZES
    text = "".join(t for t, _ in runs)
    bold = [heading or b for t, b in runs for _ in t]
    h = size * _LINE * 0.3528
    pdf.set_font(_FAMILY, size=size)
    left = pdf.l_margin
    avail = pdf.w - pdf.r_margin - left
    margin, pdf.c_margin = pdf.c_margin, 0
    try:
        for start, end, wrapped in _break_lines(pdf, text, avail):
            if pdf.will_page_break(h):
                pdf.add_page()
            line = text[start:end]
            width = pdf.get_string_width(line)
            spacing = 0.0
            if block.align == "left" and wrapped and len(line) > 1:
                spacing = (avail - width) / (len(line) - 1)
            offset = {"left": 0.0, "center": (avail - width) / 2, "right": avail - width}
            x, y = left + offset[block.align], pdf.get_y()
            i = start
            while i < end:
                j = i + 1
                while j < end and bold[j] == bold[i]:
                    j += 1
                pdf.text_mode = TextMode.FILL_STROKE if bold[i] else TextMode.FILL
                pdf.set_char_spacing(spacing)
                seg = text[i:j]
                w = pdf.get_string_width(seg)
                pdf.set_xy(x, y)
                pdf.cell(w, h, seg)
                x += w + spacing
                i = j
            pdf.set_xy(left, y + h)
    finally:
        pdf.c_margin = margin
        pdf.text_mode = TextMode.FILL
        pdf.set_char_spacing(0)
        pdf.set_x(left)


def _draw_li(pdf: FPDF, block: _Block) -> None:
    indent = 8.0 * block.depth
    left = pdf.l_margin
    pdf.set_font(_FAMILY, size=_BODY_PT)
    h = _BODY_PT * _LINE * 0.3528
    if pdf.will_page_break(h):
        pdf.add_page()
    y = pdf.get_y()
    pdf.set_x(left + indent - 7)
    pdf.cell(7, h, block.marker)
    pdf.set_xy(left + indent, y)
    pdf.set_left_margin(left + indent)
    try:
        _draw_runs(pdf, _Block("p", runs=block.runs), _BODY_PT)
    finally:
        pdf.set_left_margin(left)
        pdf.set_x(left)


def _draw_table(pdf: FPDF, block: _Block) -> None:
    from fpdf import FontFace
    from fpdf.enums import WrapMode

    rows = [r for r in block.rows if r]
    if not rows:
        return
    ncols = max(sum(c.colspan for c in r) for r in rows)
    widths: tuple[float, ...] | None = None
    first = rows[0]
    if all(c.width for c in first) and sum(c.colspan for c in first) == ncols == len(first):
        widths = tuple(_size_mm(c.width.rstrip("%"), "width") for c in first)
    pdf.set_font(_FAMILY, size=_BODY_PT - 2)
    headings = all(c.heading for c in first)
    with pdf.table(
        col_widths=widths,
        first_row_as_headings=headings,
        headings_style=FontFace(emphasis="", fill_color=(235, 235, 235)),
        line_height=(_BODY_PT - 2) * 1.5 * 0.3528,
        wrapmode=WrapMode.CHAR,
        text_align="LEFT",
        padding=(0.8, 1.5),
    ) as table:
        for cells in rows:
            row = table.row()
            for c in cells:
                row.cell(_SPACE.sub(" ", c.text).strip(" "), colspan=c.colspan,
                         align=_align(c.align))
    pdf.ln(2)


def _draw_image(pdf: FPDF, block: _Block, images: Mapping[str, bytes]) -> None:
    src = block.attrs.get("src", "")
    if not src.startswith("cid:"):
        raise ValueError(f'<img src="{src}">: only cid:<name> images from `images` are allowed')
    name = src[4:]
    if name not in images:
        raise ValueError(f"image {name!r} is used by the template but not given")
    w = _size_mm(block.attrs["width"], "width") if block.attrs.get("width") else 0
    h = _size_mm(block.attrs["height"], "height") if block.attrs.get("height") else 0
    if not w and not h:
        w = 40.0
    try:
        pdf.image(io.BytesIO(images[name]), x=_align(block.align), w=w, h=h)
    except Exception as exc:  # fpdf2/Pillow raise many kinds for bad data
        raise ValueError(f"image {name!r} is not a readable image: {exc}") from None


def _draw(pdf: FPDF, blocks: Sequence[_Block], images: Mapping[str, bytes]) -> None:
    for block in blocks:
        if block.kind in _SIZES:
            pdf.ln(2)
            _draw_runs(pdf, block, _SIZES[block.kind])
            pdf.ln(2)
        elif block.kind == "p":
            _draw_runs(pdf, block, _BODY_PT)
            pdf.ln(1.5)
        elif block.kind == "li":
            _draw_li(pdf, block)
        elif block.kind == "table":
            _draw_table(pdf, block)
        elif block.kind == "img":
            _draw_image(pdf, block, images)


# --- public API ---------------------------------------------------------------------------


def resolve_font(font_path: Path | None = None) -> Path:
    """The font to embed: the argument, else $FORMFLOW_PDF_FONT, else the shipped one."""
    path = Path(font_path or os.environ.get(FONT_ENV) or DEFAULT_FONT)
    if not path.is_file():
        raise FileNotFoundError(f"PDF font {str(path)!r} does not exist (set {FONT_ENV})")
    return path


def render_html(
    template_dir: Sequence[Path], template_name: str, context: Mapping[str, Any]
) -> str:
    """Render a document template (first folder that has it wins), autoescaped."""
    env = _environment(tuple(str(d) for d in template_dir))
    return env.get_template(template_name).render(dict(context))


@lru_cache(maxsize=64)
def _environment(folders: tuple[str, ...]) -> ImmutableSandboxedEnvironment:
    """One Jinja environment per folder list (templates parsed once, reloaded when changed)."""
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(list(folders)),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )
    env.filters["cn_date"] = cn_date
    return env


def render_pdf(
    template_dir: Sequence[Path],
    template_name: str,
    context: Mapping[str, Any],
    *,
    title: str,
    number: str | None = None,
    images: Mapping[str, bytes] | None = None,
    font_path: Path | None = None,
    issued_on: date | str | None = None,
) -> bytes:
    """`render_pdf_here`, done by the serve helper process when there is one (formflow.sidecar).

    Under `formflow serve` fpdf2 and fontTools are then loaded once beside the workers, not in
    each; the bytes are the same; a refusal raised there is raised here.
    """
    from formflow import sidecar

    args = (list(template_dir), template_name, dict(context))
    kwargs: dict[str, Any] = {"title": title, "number": number, "images": dict(images) if images else None,
              "font_path": font_path, "issued_on": issued_on}
    try:
        return bytes(sidecar.ask("render_pdf", *args, **kwargs))
    except sidecar.SidecarUnavailable:
        return render_pdf_here(list(template_dir), template_name, context, **kwargs)


def render_pdf_here(
    template_dir: Sequence[Path],
    template_name: str,
    context: Mapping[str, Any],
    *,
    title: str,
    number: str | None = None,
    images: Mapping[str, bytes] | None = None,
    font_path: Path | None = None,
    issued_on: date | str | None = None,
) -> bytes:
    """Render a notice to PDF bytes in this process; same inputs, same bytes.

    `issued_on` (or `context["issued_on"]`) is printed and is the PDF creation date.
    The template sees `context` plus `title`, `number`, `issued_on` and `cid` (the
    names in `images`, for `{% if "signature" in cid %}`).
    """
    issued_raw = issued_on if issued_on is not None else context.get("issued_on")
    if issued_raw is None:
        raise ValueError(f"notice {title!r} needs issued_on (argument or context)")
    issued = as_date(issued_raw)
    html = render_html(template_dir, template_name,
                       {**context, "title": title, "number": number, "issued_on": issued,
                        "cid": frozenset(images or {})})
    walker = _Walker()
    walker.feed(html)
    walker.close()

    from fpdf.fonts import TTFFont

    pdf = _document_class()(number, cn_date(issued))
    chars = _chars(walker.blocks, title, number or "", pdf.issued)
    data = document_font(chars, resolve_font(font_path), fallback_fonts())
    font = TTFFont(pdf, io.BytesIO(data), _FAMILY, "")  # type: ignore[arg-type]
    font.ttfont.recalcBBoxes = False  # the bounds are right already; fpdf2 re-subsets at output
    pdf.fonts[_FAMILY] = font
    left, top, right, bottom = _MARGINS
    pdf.set_margins(left, top, right)
    pdf.set_auto_page_break(True, margin=bottom)
    pdf.set_title(title)
    if number:
        pdf.set_subject(number)
    pdf.set_creator("formflow")
    pdf.set_lang("zh-CN")
    pdf.set_creation_date(datetime.combine(issued, time(), tzinfo=UTC))
    pdf.add_page()
    pdf.set_line_width(0.2)
    _draw(pdf, walker.blocks, images or {})
    document = bytes(pdf.output())
    del pdf, font
    _return_freed_memory()
    return document


def _return_freed_memory() -> None:
    """Hand the heap a render freed back to the system (glibc `malloc_trim`, ≈ 0.1 ms; elsewhere nothing).

    A render builds and drops a few MiB of objects; without this the serving process keeps them
    as free heap, and the next Argon2 check (64 MiB) peaks that much higher."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@lru_cache(maxsize=1)
def _malloc_trim() -> Any:
    import ctypes

    try:
        return ctypes.CDLL(None).malloc_trim  # the C library the process already runs on
    except (OSError, AttributeError, TypeError):  # not glibc
        return None


def _chars(blocks: Sequence[_Block], *texts: str) -> set[str]:
    """Every character the document may draw: blocks, markers, footer (number, date, page)."""
    chars = set("".join(texts)) | set("— 0123456789.•")
    for block in blocks:
        chars.update(block.marker)
        for text, _bold in block.runs:
            chars.update(text)
        for row in block.rows:
            for cell in row:
                chars.update(cell.text)
    return chars


def pdf_text(data: bytes) -> str:
    """All text of a PDF, page after page."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
