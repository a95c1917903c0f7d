"""Printouts of an application through the notice renderer: the approval form and the applicant's copy.

These are not numbered notices: nothing is stored, each print shows the
application as it stands. The caller (a use case) decides who may print and
what is masked; this module only turns the views into rows and renders.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from formflow.documents.notices import template_dirs
from formflow.documents.pdf import render_pdf

APPROVAL_TEMPLATE = "documents/approval-form.html"
COPY_TEMPLATE = "documents/application-form.html"
RECEIPT_TEMPLATE = "documents/receipt.html"


def _rows(values: Iterable[Any], prefix: str = "") -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for v in values:
        label = f"{prefix}{v.title}"
        if v.children:
            rows.extend(_rows(v.children, prefix=f"{label} · "))
        elif v.files:
            rows.append({"label": label, "value": ", ".join(f.name for f in v.files)})
        elif not v.empty and v.kind != "signature":
            rows.append({"label": label, "value": v.text})
    return rows


def sections(steps: Sequence[Any]) -> list[dict[str, Any]]:
    """The application step by step as (label, value) rows; empty fields left out."""
    out = []
    for step in steps:
        rows = _rows(step.values)
        if rows:
            out.append({"title": step.title, "rows": rows})
    return out


def render(renderers: Path, pack: str, template: str, context: dict[str, Any], *, title: str,
           number: str | None, today: date, lineage: Sequence[str] = ()) -> bytes:
    """One printout as PDF bytes (a pack, or a pack it extends, may override the template like any notice)."""
    dirs, name = template_dirs(renderers, pack, template, lineage)
    return render_pdf(dirs, name, context, title=title, number=number, issued_on=today)
