"""The quarterly rental-subsidy roster and its workbook for the finance bureau."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from formflow.allocation import subsidy as subsidy_mod
from formflow.allocation.config import Allocation
from formflow.allocation.register import AllocationError
from formflow.auth.current import signed_in_account
from formflow.db.models import (
    Application,
    SubsidyRoster,
)
from formflow.documents.exports import (
    INTEGER,
    MONEY,
    NUMBER,
    XLSX,
    Sheet,
    example_banner,
    signature_block,
    xlsx_bytes,
)
from formflow.packs.versions import load_pinned
from formflow.text.catalogue import _
from formflow.text.formatting import money
from formflow.web.context import sessions
from formflow.web.housing.common import (
    _alloc_or_404,
    _download,
    _login_or_redirect,
    _reach,
    _sync,
    _today,
    bp,
)

# --------------------------------------------------------------------------- subsidy roster


@bp.route("/<pack>/<matter>/subsidy", methods=["GET", "POST"])
def subsidy(pack: str, matter: str):
    if (back := _login_or_redirect()) is not None:
        return back
    alloc = _alloc_or_404(pack, matter)
    _reach(alloc, "subsidy")
    if alloc.subsidy is None:
        abort(404)
    kind = alloc.subsidy.get("period", "quarter")
    period = request.values.get("period") or subsidy_mod.current_period(_today(), kind)
    if request.method == "POST":
        _sync(alloc)
        try:
            with sessions().begin() as db:
                roster = subsidy_mod.build_roster(db, alloc, period, signed_in_account(), today=_today())
            flash(_("Roster %(period)s built: %(n)s households, total %(total)s", period=roster.period,
                    n=len(roster.rows), total=money(roster.total)), "ok")
            return redirect(url_for(".subsidy", pack=pack, matter=matter, period=roster.period))
        except AllocationError as exc:
            flash(exc.message, "error")
    with sessions()() as db:
        rosters = list(db.scalars(select(SubsidyRoster)
                                  .where(SubsidyRoster.pack == pack, SubsidyRoster.matter == matter)
                                  .order_by(SubsidyRoster.period.desc())))
    shown = next((r for r in rosters if r.period == period.upper()), None)
    return render_template("housing/subsidy.html", alloc=alloc, rosters=rosters, roster=shown, period=period,
                           columns=alloc.subsidy.get("columns") or [])


def roster_workbook(alloc: Allocation, roster: SubsidyRoster, base_url: str, id_numbers: dict[int, str]) -> bytes:
    """The finance bureau's workbook: one row per household, its archive linked from the row."""
    spec = alloc.subsidy or {}
    columns = spec.get("columns") or []
    amount_title = _("Amount this period (yuan)")
    header = [_("No."), _("Archive number"), _("Head of household"), _("Citizen ID number"), _("Support mode"),
              *[alloc.fact_heading(c) for c in columns], _("Monthly subsidy (yuan)"), _("Months"), amount_title,
              _("Household archive")]
    rows, links = [], {}
    link_col = len(header) - 1
    for i, row in enumerate(roster.rows):
        url = f"{base_url.rstrip('/')}{url_for('.archive', household_id=row['household'])}"
        rows.append([i + 1, row["code"], row["name"], id_numbers.get(row["application"], row["id_masked"]),
                     alloc.mode_title(row["mode"]),
                     *[alloc.fact_number(c, (row.get("facts") or {}).get(c)) for c in columns],
                     Decimal(str(row["monthly"])), row["months"], Decimal(str(row["amount"])),
                     _("View the archive")])
        links[(i, 1)] = url
        links[(i, link_col)] = url
    total: list[Any] = [_("Total"), _("%(n)s households", n=len(rows)), *[""] * (len(header) - 2)]
    total[header.index(amount_title)] = Decimal(str(roster.total))
    recipient = spec.get("recipient")
    title = _("%(title)s (%(day)s)", title=spec.get("title", ""), day=roster.period) + (
        _(" to: %(recipient)s", recipient=recipient) if recipient else "")
    first_fact = 5
    formats = {i: NUMBER for i in range(first_fact, first_fact + len(columns))}
    formats.update({header.index(amount_title) - 2: MONEY, header.index(amount_title) - 1: INTEGER,
                    header.index(amount_title): MONEY})
    sheet = Sheet(roster.period, header, rows, title=title, links=links, footer=[total],
                  widths={0: 6, 1: 22, 2: 12, 3: 22, link_col: 12}, formats=formats,
                  banner=example_banner(alloc.examples), signature=signature_block())
    return xlsx_bytes([sheet])


def _id_numbers(db, alloc: Allocation, roster: SubsidyRoster) -> dict[int, str]:
    """Full ID numbers for the finance bureau (read from each approved application)."""
    from formflow.forms.rules import evaluate

    out = {}
    for row in roster.rows:
        app = db.get(Application, row["application"])
        if app is None:
            continue
        scope = load_pinned(db, app.versions).ruleset.variables(app.data or {}, _today())
        value = evaluate(alloc.spec["household"]["id_number"], scope)
        if value:
            out[app.id] = str(value)
    return out


def _record_export(roster_id: int, application_ids: set[int]) -> None:
    """Before the file leaves: who exported the full ID numbers of which households (own transaction)."""
    from formflow.personal.access_log import ROSTER_EXPORT, record_export

    if not application_ids:
        return
    with sessions().begin() as db:
        record_export(db, signed_in_account().id, application_ids, ROSTER_EXPORT.format(roster=roster_id))


@bp.get("/subsidy/<int:roster_id>.xlsx")
def subsidy_xlsx(roster_id: int):
    if (back := _login_or_redirect()) is not None:
        return back
    with sessions()() as db:
        roster = db.get(SubsidyRoster, roster_id)
        if roster is None:
            abort(404)
        alloc = _alloc_or_404(roster.pack, roster.matter)
        _reach(alloc, "subsidy")
        id_numbers = _id_numbers(db, alloc, roster)
        _record_export(roster.id, set(id_numbers))
        data = roster_workbook(alloc, roster, request.url_root, id_numbers)
    return _download(data, XLSX, f"{(alloc.subsidy or {}).get('title') or _('Roster')}-{roster.period}.xlsx")
