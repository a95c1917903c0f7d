"""CSV and Excel exports, with spreadsheet formula injection neutralised.

A cell text starting with `=`, `+`, `-`, `@`, a tab or a carriage return
would be read by a spreadsheet as a formula (or hide one); such texts are
written with a leading apostrophe, as text. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


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


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        ws = book.create_sheet(_sheet_name(sheet.name))
        if sheet.title:
            ws.append([neutralise(sheet.title)])
            ws.cell(row=ws.max_row, column=1).font = Font(bold=True, size=13)
        ws.append([neutralise(h) for h in sheet.header])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        first = ws.max_row + 1
        for r, row in enumerate(sheet.rows):
            ws.append([_cell(v) for v in row])
            for c, _ in enumerate(row):
                url = sheet.links.get((r, c))
                if url:
                    cell = ws.cell(row=first + r, column=c + 1)
                    cell.hyperlink = url
                    cell.font = Font(color="0563C1", underline="single")
        for row in sheet.footer:
            ws.append([_cell(v) for v in row])
            for cell in ws[ws.max_row]:
                cell.font = Font(bold=True)
        for c in range(len(sheet.header)):
            ws.column_dimensions[get_column_letter(c + 1)].width = sheet.widths.get(c, 16)
        for cell in (c for row in ws.iter_rows() for c in row):
            if isinstance(cell.value, str):
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    return neutralise(_plain(value))


def _sheet_name(name: str) -> str:
    for bad in "[]:*?/\\":
        name = name.replace(bad, " ")
    return name[:31] or "Sheet"
