"""The waiting list (staff view, exports) and the housing staff's explicit "sync now"."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from formflow.allocation import register
from formflow.allocation.config import Allocation, allocations
from formflow.allocation.register import mask_name
from formflow.auth.current import signed_in_account
from formflow.db.models import (
    Household,
)
from formflow.documents.exports import CSV, XLSX, Sheet, csv_bytes, example_banner, xlsx_bytes
from formflow.text.catalogue import _
from formflow.text.formatting import day
from formflow.web.context import packs, sessions
from formflow.web.housing.common import (
    PARTS,
    _alloc_or_404,
    _download,
    _login_or_redirect,
    _may,
    _reach,
    _sync,
    _today,
    bp,
)

# --------------------------------------------------------------------------- index


@bp.get("/")
def index():
    if (back := _login_or_redirect()) is not None:
        return back
    entries = []
    for alloc in allocations(packs()):
        parts = [(part, title) for part, title in PARTS.items() if _may(alloc, part)]
        if parts:
            entries.append((alloc, parts))
    with sessions()() as db:
        mine = list(db.scalars(select(Household).where(Household.applicant_id == signed_in_account().id)))
    if not entries and not mine:
        abort(404)
    return render_template("housing/index.html", entries=entries, mine=mine)


# --------------------------------------------------------------------------- waiting list


def waiting_rows(alloc: Allocation, households: list[Household], *, public: bool,
                 numbers: bool = False) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of a waiting list; names and ID numbers masked (as published).

    `numbers`: facts as numbers with the unit in the header (for a workbook), else as text with the unit.
    """
    columns = alloc.waiting_list.get("public_columns") or []
    fact = alloc.fact_number if numbers else alloc.fact_text
    header = [_("Place on the list"), _("Archive number"), _("Head of household"), _("Citizen ID number"),
              *[(alloc.fact_heading if numbers else alloc.fact_title)(c) for c in columns], _("Waiting since")]
    rows = []
    for i, h in enumerate(households, start=1):
        rows.append([i, h.code, mask_name(h.name), h.id_masked,
                     *[fact(c, (h.facts or {}).get(c)) for c in columns],
                     day(h.queued_on)])
    return header, rows


@bp.get("/<pack>/<matter>/waiting")
def waiting(pack: str, matter: str):
    if (back := _login_or_redirect()) is not None:
        return back
    alloc = _alloc_or_404(pack, matter)
    paths = _reach(alloc, "waiting_list")
    with sessions()() as db:
        households = register.waiting_list(db, alloc, today=_today(), paths=paths)
    header, rows = waiting_rows(alloc, households, public=False)
    title = str(alloc.waiting_list.get("title") or _("Waiting register"))
    fmt = request.args.get("format")
    if fmt == "csv":
        return _download(csv_bytes(header, rows), CSV, f"{title}.csv")
    if fmt == "xlsx":
        header, rows = waiting_rows(alloc, households, public=False, numbers=True)
        sheet = Sheet(_("Waiting register"), header, rows,
                      title=_("%(title)s (%(day)s)", title=title, day=day(_today())),
                      widths={0: 8, 1: 22, 3: 22}, banner=example_banner(alloc.examples))
        return _download(xlsx_bytes([sheet]), XLSX, f"{title}.xlsx")
    return render_template("housing/waiting.html", alloc=alloc, title=title, header=header, rows=rows,
                           households=households, rule=alloc.waiting_list.get("order") or [])


@bp.route("/<pack>/<matter>/sync", methods=["GET", "POST"])
def sync_now(pack: str, matter: str):
    """Housing staff's "sync now": GET asks for confirmation (writes nothing), the confirmed POST runs the sync."""
    if (back := _login_or_redirect()) is not None:
        return back
    alloc = _alloc_or_404(pack, matter)
    _reach(alloc, "waiting_list")
    if request.method == "POST" and request.form.get("confirmed") == "1":
        report = _sync(alloc)
        flash(_("Synchronised: %(created)s new household archives, %(applied)s check outcomes applied, "
                "%(skipped)s not processed", created=len(report.created), applied=len(report.applied),
                skipped=len(report.skipped)), "ok")
        for why in report.skipped.values():
            flash(why, "error")
        return redirect(url_for(".waiting", pack=pack, matter=matter))
    return render_template("housing/sync.html", alloc=alloc)
