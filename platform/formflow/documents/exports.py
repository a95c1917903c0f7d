"""CSV and Excel exports, office-ready, with spreadsheet formula injection neutralised.

A cell text starting with `=`, `+`, `-`, `@`, a tab or a carriage return
would be read by a spreadsheet as a formula (or hide one); such texts are
written with a leading apostrophe, as text. Numbers stay numbers.

A workbook sheet is ready to print and file: an optional banner row (e.g.
"parameters hold example values"), the title row, the header frozen and
filtered, A4 landscape fitted to the page width with the title and header
rows repeated on every page, money as numbers in `#,##0.00` (Decimal values
and the columns named in `formats`), totals and a signature block below.
Every download is named by `download_headers`: an RFC 5987 `filename*` with
the Chinese name and an ASCII `filename=` that keeps the extension.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from formflow.text.catalogue import _

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
PDF = "application/pdf"
MONEY = "#,##0.00"
NUMBER = "#,##0.##"
INTEGER = "0"


def download_headers(name: str, *, inline: bool = False, fallback: str = "export") -> dict[str, str]:
    """`Content-Disposition` of a download: the real name (RFC 5987) and an ASCII name with its extension."""
    path = PurePosixPath(name.replace("/", " ").replace("\\", " "))
    ext = path.suffix if path.suffix.isascii() else ""
    stem = "".join(ch for ch in path.stem if ch.isascii() and (ch.isalnum() or ch in "-_.() "))
    stem = "-".join(stem.split()).strip(".-") or fallback
    kind = "inline" if inline else "attachment"
    return {"Content-Disposition":
            f"{kind}; filename=\"{stem}{ext}\"; filename*=UTF-8''{quote(str(path), safe='')}"}


def neutralise(value: Any) -> Any:
    """The value as a safe cell: dangerous texts get a leading apostrophe."""
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if value is None:
        return ""
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(_plain(v)) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@dataclass
class Sheet:
    """One worksheet: a title row (optional), a header, rows, and links by (row index, column index)."""

    name: str
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]
    title: str | None = None
    links: Mapping[tuple[int, int], str] = field(default_factory=dict)
    footer: Sequence[Sequence[Any]] = field(default_factory=list)
    widths: Mapping[int, float] = field(default_factory=dict)
    formats: Mapping[int, str] = field(default_factory=dict)  # column → number format (MONEY, NUMBER…)
    banner: str | None = None  # a warning row above the title, e.g. parameters still hold example values
    signature: Sequence[str] = ()  # the signature block below the totals, one label per cell


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        _write(book.create_sheet(_sheet_name(sheet.name)), sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _write(ws: Any, sheet: Sheet) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ncols = max(len(sheet.header), 1)
    last = get_column_letter(ncols)
    if sheet.banner:
        ws.append([neutralise(sheet.banner)])
        ws.merge_cells(f"A{ws.max_row}:{last}{ws.max_row}")
        cell = ws.cell(row=ws.max_row, column=1)
        cell.font = Font(bold=True, color="9C0006")
        cell.fill = PatternFill("solid", fgColor="FFC7CE")
    if sheet.title:
        ws.append([neutralise(sheet.title)])
        ws.merge_cells(f"A{ws.max_row}:{last}{ws.max_row}")
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True, size=13)
        ws.cell(row=ws.max_row, column=1).alignment = Alignment(horizontal="center")
    ws.append([neutralise(h) for h in sheet.header])
    head = ws.max_row
    for cell in ws[head]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    first = head + 1
    for r, row in enumerate(sheet.rows):
        ws.append([_cell(v) for v in row])
        for c, value in enumerate(row):
            cell = ws.cell(row=first + r, column=c + 1)
            _format(cell, value, sheet.formats.get(c))
            url = sheet.links.get((r, c))
            if url:
                cell.hyperlink = url
                cell.font = Font(color="0563C1", underline="single")
    end = ws.max_row
    for row in sheet.footer:
        ws.append([_cell(v) for v in row])
        for c, value in enumerate(row):
            cell = ws.cell(row=ws.max_row, column=c + 1)
            cell.font = Font(bold=True)
            _format(cell, value, sheet.formats.get(c))
    if sheet.signature:
        ws.append([])
        ws.append([neutralise(label) for label in sheet.signature])
    for c in range(ncols):
        ws.column_dimensions[get_column_letter(c + 1)].width = sheet.widths.get(c, 16)
    for cell in (c for row in ws.iter_rows() for c in row):
        if isinstance(cell.value, str):
            cell.data_type = "s"
    ws.freeze_panes = ws.cell(row=first, column=1).coordinate
    ws.auto_filter.ref = f"A{head}:{last}{max(end, head)}"
    ws.print_title_rows = f"1:{head}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5


def _format(cell: Any, value: Any, fmt: str | None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return
    if fmt:
        cell.number_format = fmt
    elif isinstance(value, Decimal):
        cell.number_format = MONEY


def example_banner(examples: Sequence[str]) -> str | None:
    """The warning row of a workbook computed with parameters that still hold example values."""
    if not examples:
        return None
    return _("Provisional: these parameters still hold example values, not the official ones: %(names)s",
             names=", ".join(examples))


def signature_block() -> list[str]:
    """The labels of the signature block under a roster."""
    return [_("Prepared by:"), "", _("Checked by:"), "", _("Approved by:"), "", _("Date:")]


def _cell(value: Any) -> Any:
    return neutralise(_plain(value))


def _sheet_name(name: str) -> str:
    for bad in "[]:*?/\\":
        name = name.replace(bad, " ")
    return name[:31] or "Sheet"
