"""Dashboards of a pack's applications and households."""

from __future__ import annotations

from flask import abort, render_template, request

from formflow.allocation import dashboards
from formflow.allocation.config import allocations
from formflow.documents.exports import XLSX
from formflow.text.catalogue import _
from formflow.text.formatting import day
from formflow.web.context import packs, sessions
from formflow.web.housing.common import (
    _download,
    _login_or_redirect,
    _may,
    _today,
    bp,
)

# --------------------------------------------------------------------------- dashboards


@bp.get("/<pack>/dashboard")
def dashboard(pack: str):
    if (back := _login_or_redirect()) is not None:
        return back
    found = packs().packs.get(pack)
    allocs = [a for a in allocations(packs()) if a.pack == pack]
    if found is None or not any(_may(a, "dashboards") for a in allocs):
        abort(404)
    matter = request.args.get("matter") or None
    if matter is not None and matter not in found.matters:
        abort(404)
    with sessions()() as db:
        board = dashboards.build(db, found, today=_today(), matters=[matter] if matter else None,
                                 waiting=dashboards.waiting_counts(db, allocs) if matter is None else None)
    if request.args.get("format") == "xlsx":
        name = _("%(pack)s statistics-%(day)s.xlsx", pack=found.name, day=day(_today()))
        return _download(dashboards.workbook(board), XLSX, name)
    return render_template("housing/dashboard.html", board=board, pack=found, matter=matter,
                           charts=[(c, dashboards.svg(c)) for c in board.charts])
