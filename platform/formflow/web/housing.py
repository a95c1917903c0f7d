"""After approval (blueprint `housing`, /housing): waiting list, lottery, subsidy roster,
household archives (一户一档), follow-up campaigns, dashboards, and the citizen's own archive.

Who may use each part is the pack's decision (allocation.yaml `roles`); a
role held at an office reaches the households under that office, a role held
without an office (configurator) reaches the whole pack. Anyone else gets 404.
Every household change goes through `formflow.allocation` in one transaction
with its history event.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from formflow.allocation import dashboards, draws, followup, register
from formflow.allocation import subsidy as subsidy_mod
from formflow.allocation.config import EFFECT_TITLES, STATUS_TITLES, Allocation, allocation_of, allocations
from formflow.allocation.register import AllocationError, mask_name
from formflow.auth.current import current_account, login_required, signed_in_account
from formflow.db.models import (
    Account,
    Application,
    CheckCampaign,
    Household,
    HouseholdCheck,
    HouseholdEvent,
    LotteryBatch,
    Office,
    RoleAssignment,
    SubsidyRoster,
)
from formflow.documents.exports import CSV, XLSX, Sheet, csv_bytes, xlsx_bytes
from formflow.packs.versions import load_pinned
from formflow.text.catalogue import _, lazy
from formflow.text.errors import Refusal
from formflow.text.formatting import day, money
from formflow.web.context import packs, services, sessions

bp = Blueprint("housing", __name__, url_prefix="/housing")

PARTS = {"waiting_list": lazy("Waiting register"), "lottery": lazy("Lottery allocation"),
         "subsidy": lazy("Rental subsidy roster"), "follow_up": lazy("Follow-up checks"),
         "dashboards": lazy("Dashboards")}
EVENT_TITLES = {
    "entered": lazy("Entered support"), "flat_offered": lazy("Flat drawn"),
    "offer_accepted": lazy("Tenancy confirmed"), "offer_declined": lazy("Offer declined"),
    "subsidy_stopped": lazy("Stop the rental subsidy"), "flat_recovered": lazy("Recover the flat"),
    "check_continued": lazy("Check: support continues"), "check_closed": lazy("Check closed"),
    "check_started": lazy("Check started"), "report_filed": lazy("Change reported"),
    "rostered": lazy("Put on the subsidy roster"),
}


# --------------------------------------------------------------------------- wiring


def _today() -> date:
    from formflow.web.context import today

    return today()


def _sync(alloc: Allocation) -> register.SyncReport:
    """Only from a POST: a GET never writes (cron runs `formflow allocation sync`)."""
    return register.sync(sessions(), packs(), today=_today(), only=alloc)


def _alloc_or_404(pack: str, matter: str) -> Allocation:
    alloc = allocation_of(packs(), pack, matter)
    if alloc is None:
        abort(404)
    return alloc


def _reach(alloc: Allocation, part: str) -> list[str] | None:
    """Office paths the signed-in account reaches for `part` (None: the whole pack); 404 if none."""
    account = current_account()
    if account is None:
        abort(404)
    allowed = alloc.roles(part)
    paths: list[str] = []
    with sessions()() as db:
        rows = db.execute(select(RoleAssignment.role, Office)
                          .outerjoin(Office, Office.id == RoleAssignment.office_id)
                          .where(RoleAssignment.account_id == account.id)).all()
    for role, office in rows:
        if role not in allowed:
            continue
        if office is None:
            return None
        if office.pack == alloc.pack:
            paths.append(office.path)
    if not paths:
        abort(404)
    return paths


def _within(h: Household, paths: list[str] | None) -> bool:
    return paths is None or any((h.office_path or "").startswith(p) for p in paths)


def _may(alloc: Allocation, part: str) -> bool:
    try:
        _reach(alloc, part)
    except Exception:  # noqa: BLE001 - abort(404) raises
        return False
    return True


def _login_or_redirect():
    if current_account() is None:
        return redirect(url_for("auth.login", next=request.full_path))
    return None


def _version() -> int | None:
    raw = request.form.get("expected_version")
    return int(raw) if raw and raw.isdigit() else None


def _fail(exc: Refusal, target: str):
    flash(exc.message, "error")
    return redirect(target)


def _download(data: bytes, media: str, name: str) -> Response:
    from urllib.parse import quote

    return Response(data, mimetype=media, headers={
        "Content-Disposition": f"attachment; filename=export; filename*=UTF-8''{quote(name)}"})


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


def waiting_rows(alloc: Allocation, households: list[Household], *, public: bool) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of a waiting list; names and ID numbers masked (as published)."""
    columns = alloc.waiting_list.get("public_columns") or []
    header = [_("Place on the list"), _("Archive number"), _("Head of household"), _("Citizen ID number"),
              *[alloc.fact_title(c) for c in columns], _("Waiting since")]
    rows = []
    for i, h in enumerate(households, start=1):
        rows.append([i, h.code, mask_name(h.name), h.id_masked,
                     *[alloc.fact_text(c, (h.facts or {}).get(c)) for c in columns],
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
        sheet = Sheet(_("Waiting register"), header, rows,
                      title=_("%(title)s (%(day)s)", title=title, day=day(_today())))
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


# --------------------------------------------------------------------------- lottery


@bp.route("/<pack>/<matter>/lottery", methods=["GET", "POST"])
def lottery_list(pack: str, matter: str):
    if (back := _login_or_redirect()) is not None:
        return back
    alloc = _alloc_or_404(pack, matter)
    paths = _reach(alloc, "lottery")
    if alloc.lottery is None:
        abort(404)
    if request.method == "POST":
        _sync(alloc)
        try:
            flats = draws.parse_flats(request.form.get("flats", ""))
            with sessions().begin() as db:
                batch = draws.create_batch(db, alloc, title=request.form.get("title", ""), flats=flats,
                                           codes=None, actor=signed_in_account(), today=_today(), paths=paths)
            return redirect(url_for(".lottery_batch", batch_id=batch.id))
        except AllocationError as exc:
            flash(exc.message, "error")
    with sessions()() as db:
        batches = list(db.scalars(select(LotteryBatch).where(LotteryBatch.pack == pack, LotteryBatch.matter == matter)
                                  .order_by(LotteryBatch.id.desc())))
    return render_template("housing/lottery_list.html", alloc=alloc, batches=batches,
                           status_titles=draws.STATUS_TITLES, flats_text=request.form.get("flats", ""))


def _batch_or_404(batch_id: int) -> tuple[LotteryBatch, Allocation, list[str] | None]:
    with sessions()() as db:
        batch = db.get(LotteryBatch, batch_id)
    if batch is None:
        abort(404)
    alloc = _alloc_or_404(batch.pack, batch.matter)
    return batch, alloc, _reach(alloc, "lottery")


@bp.get("/lottery/<int:batch_id>")
def lottery_batch(batch_id: int):
    if (back := _login_or_redirect()) is not None:
        return back
    batch, alloc, paths = _batch_or_404(batch_id)
    with sessions()() as db:
        codes = [e["code"] for e in batch.entrants]
        households = {h.code: h for h in db.scalars(select(Household).where(Household.code.in_(codes)))}
        if batch.status == "draft":
            batch.entrants = batch.entrants  # shown as defined
    doc = draws.published(batch)
    return render_template("housing/lottery_batch.html", alloc=alloc, batch=batch, doc=doc, households=households,
                           flats={f["code"]: f for f in batch.flats}, status_titles=STATUS_TITLES,
                           batch_titles=draws.STATUS_TITLES)


@bp.post("/lottery/<int:batch_id>/commit")
def lottery_commit(batch_id: int):
    if (back := _login_or_redirect()) is not None:
        return back
    _batch_or_404(batch_id)
    try:
        with sessions().begin() as db:
            draws.commit(db, batch_id, signed_in_account(), expected_version=_version())
        flash(_("The entrants, the flats and the seed hash are published; the draw may take place"), "ok")
    except AllocationError as exc:
        flash(exc.message, "error")
    return redirect(url_for(".lottery_batch", batch_id=batch_id))


@bp.post("/lottery/<int:batch_id>/draw")
def lottery_draw(batch_id: int):
    if (back := _login_or_redirect()) is not None:
        return back
    _batch_or_404(batch_id)
    try:
        with sessions().begin() as db:
            draws.draw(db, batch_id, signed_in_account(), witness=request.form.get("witness", ""), today=_today(),
                       expected_version=_version())
        flash(_("Drawn; the seed and the result are published"), "ok")
    except AllocationError as exc:
        flash(exc.message, "error")
    return redirect(url_for(".lottery_batch", batch_id=batch_id))


@bp.get("/lottery/<int:batch_id>.json")
def lottery_json(batch_id: int):
    if (back := _login_or_redirect()) is not None:
        return back
    batch, _alloc, _paths = _batch_or_404(batch_id)
    return lottery_response(batch)


def lottery_response(batch: LotteryBatch) -> Response:
    import json

    body = json.dumps(draws.published(batch), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f"attachment; filename=lottery-{batch.id}.json"})


def _household_or_404(household_id: int, part: str) -> tuple[Household, Allocation]:
    with sessions()() as db:
        h = db.get(Household, household_id)
    if h is None:
        abort(404)
    alloc = _alloc_or_404(h.pack, h.matter)
    if not _within(h, _reach(alloc, part)):
        abort(404)
    return h, alloc


@bp.post("/households/<int:household_id>/offer")
def offer(household_id: int):
    if (back := _login_or_redirect()) is not None:
        return back
    h, alloc = _household_or_404(household_id, "lottery")
    back_to = request.form.get("back") or url_for(".archive", household_id=h.id)
    if not back_to.startswith("/"):
        back_to = url_for(".archive", household_id=h.id)
    try:
        with sessions().begin() as db:
            if request.form.get("decision") == "accept":
                register.accept_offer(db, h.id, signed_in_account(), today=_today(), expected_version=_version())
            else:
                register.decline_offer(db, alloc, h.id, signed_in_account(), today=_today(),
                                       note=request.form.get("note") or None, expected_version=_version())
        flash(_("Recorded"), "ok")
    except AllocationError as exc:
        flash(exc.message, "error")
    return redirect(back_to)


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
              *[alloc.fact_title(c) for c in columns], _("Monthly subsidy (yuan)"), _("Months"), amount_title,
              _("Household archive")]
    rows, links = [], {}
    link_col = len(header) - 1
    for i, row in enumerate(roster.rows):
        url = f"{base_url.rstrip('/')}{url_for('.archive', household_id=row['household'])}"
        rows.append([i + 1, row["code"], row["name"], id_numbers.get(row["application"], row["id_masked"]),
                     alloc.mode_title(row["mode"]),
                     *[alloc.fact_text(c, (row.get("facts") or {}).get(c)) for c in columns],
                     float(row["monthly"]), row["months"], float(row["amount"]), _("View the archive")])
        links[(i, 1)] = url
        links[(i, link_col)] = url
    total: list[Any] = [_("Total"), _("%(n)s households", n=len(rows)), *[""] * (len(header) - 2)]
    total[header.index(amount_title)] = float(roster.total)
    recipient = spec.get("recipient")
    title = _("%(title)s (%(day)s)", title=spec.get("title", ""), day=roster.period) + (
        _(" to: %(recipient)s", recipient=recipient) if recipient else "")
    sheet = Sheet(roster.period, header, rows, title=title, links=links, footer=[total],
                  widths={1: 22, 3: 22, link_col: 12})
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
        data = roster_workbook(alloc, roster, request.url_root, _id_numbers(db, alloc, roster))
    return _download(data, XLSX, f"{(alloc.subsidy or {}).get('title') or _('Roster')}-{roster.period}.xlsx")


# --------------------------------------------------------------------------- archive (一户一档)


@bp.get("/households/<int:household_id>")
def archive(household_id: int):
    if (back := _login_or_redirect()) is not None:
        return back
    with sessions()() as db:
        h = db.get(Household, household_id)
        if h is None:
            abort(404)
        alloc = _alloc_or_404(h.pack, h.matter)
        account = signed_in_account()
        own = account.id == h.applicant_id
        if not own and not any(_may(alloc, part) and _within(h, _reach(alloc, part))
                               for part in ("waiting_list", "lottery", "subsidy", "follow_up")):
            abort(404)
        events = list(db.scalars(select(HouseholdEvent).where(HouseholdEvent.household_id == h.id)
                                 .order_by(HouseholdEvent.id)))
        actors = {a.id: a.display_name for a in db.scalars(
            select(Account).where(Account.id.in_({e.actor_id for e in events if e.actor_id})))}
        checks = list(db.execute(select(HouseholdCheck, Application).join(
            Application, Application.id == HouseholdCheck.application_id)
            .where(HouseholdCheck.household_id == h.id).order_by(HouseholdCheck.id)).all())
        app = db.get(Application, h.application_id)
    return render_template("housing/archive.html", h=h, alloc=alloc, events=events, actors=actors, checks=checks,
                           app=app, own=own, status_titles=STATUS_TITLES, event_titles=EVENT_TITLES,
                           effect_titles=EFFECT_TITLES, staff=not own)


# --------------------------------------------------------------------------- follow-up


@bp.route("/<pack>/<matter>/follow-up", methods=["GET", "POST"])
def follow_up(pack: str, matter: str):
    if (back := _login_or_redirect()) is not None:
        return back
    alloc = _alloc_or_404(pack, matter)
    paths = _reach(alloc, "follow_up")
    if request.method == "POST":
        _sync(alloc)

        try:
            with sessions().begin() as db:
                campaign = followup.start_campaign(
                    db, packs(), alloc, title=request.form.get("title", ""), kind=request.form.get("kind", ""),
                    modes=request.form.getlist("modes"), actor=signed_in_account(), today=_today(),
                    calendar=services().calendar(pack),
                    note=request.form.get("note") or None, paths=paths)
            return redirect(url_for(".campaign", campaign_id=campaign.id))
        except AllocationError as exc:
            flash(exc.message, "error")
    with sessions()() as db:
        campaigns = list(db.scalars(select(CheckCampaign).where(CheckCampaign.pack == pack,
                                                                CheckCampaign.matter == matter)
                                    .order_by(CheckCampaign.id.desc())))
    modes = [(m, alloc.mode_title(m)) for m, spec in alloc.modes.items() if spec.get("follow_up")]
    return render_template("housing/follow_up.html", alloc=alloc, campaigns=campaigns, modes=modes,
                           kinds=followup.CAMPAIGN_KINDS)


@bp.get("/follow-up/<int:campaign_id>")
def campaign(campaign_id: int):
    if (back := _login_or_redirect()) is not None:
        return back
    with sessions()() as db:
        found = db.get(CheckCampaign, campaign_id)
        if found is None:
            abort(404)
        alloc = _alloc_or_404(found.pack, found.matter)
        paths = _reach(alloc, "follow_up")
        rows = [(c, a, h) for c, a, h in db.execute(
            select(HouseholdCheck, Application, Household)
            .join(Application, Application.id == HouseholdCheck.application_id)
            .join(Household, Household.id == HouseholdCheck.household_id)
            .where(HouseholdCheck.campaign_id == found.id).order_by(Household.code)).all() if _within(h, paths)]
    return render_template("housing/campaign.html", alloc=alloc, campaign=found, rows=rows,
                           kinds=followup.CAMPAIGN_KINDS, status_titles=STATUS_TITLES)


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


# --------------------------------------------------------------------------- the citizen's own archive


@bp.get("/mine")
@login_required
def mine():
    with sessions()() as db:
        households = list(db.scalars(select(Household).where(Household.applicant_id == signed_in_account().id)
                                     .order_by(Household.id)))
    items = []
    for h in households:
        alloc = allocation_of(packs(), h.pack, h.matter)
        if alloc is not None:
            items.append((h, alloc))
    return render_template("housing/mine.html", items=items, status_titles=STATUS_TITLES)


@bp.post("/mine/<int:household_id>/report")
@login_required
def report(household_id: int):
    with sessions()() as db:
        h = db.get(Household, household_id)
    if h is None or h.applicant_id != signed_in_account().id:
        abort(404)
    alloc = _alloc_or_404(h.pack, h.matter)
    try:
        with sessions().begin() as db:
            app = followup.start_report(db, packs(), alloc, db.get(Household, household_id), signed_in_account())
            step = app.current_step
            app_id = app.id
    except Refusal as exc:  # ApplicationError or AllocationError: both are refusals with a message
        return _fail(exc, url_for(".mine"))
    return redirect(url_for("portal.step", app_id=app_id, step_id=step))
