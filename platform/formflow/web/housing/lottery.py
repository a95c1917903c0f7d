"""Lottery batches: create, commit the seed, draw, publish; offers to drawn households."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from formflow.allocation import draws, register
from formflow.allocation.config import STATUS_TITLES, Allocation
from formflow.allocation.register import AllocationError
from formflow.auth.current import signed_in_account
from formflow.auth.safety import safe_target
from formflow.db.models import (
    Household,
    LotteryBatch,
)
from formflow.documents.exports import download_headers
from formflow.text.catalogue import _
from formflow.web.context import packs, services, sessions
from formflow.web.housing.common import (
    _alloc_or_404,
    _login_or_redirect,
    _reach,
    _sync,
    _today,
    _version,
    _within,
    bp,
)
from formflow.workflow import lottery_stage

# --------------------------------------------------------------------------- lottery


@bp.route("/<pack>/<matter>/lottery", methods=["GET", "POST"])
def lottery_list(pack: str, matter: str):
    if (back := _login_or_redirect()) is not None:
        return back
    alloc = _alloc_or_404(pack, matter)
    paths = _reach(alloc, "lottery")
    if alloc.lottery is None:
        abort(404)
    stage_choices = _lottery_stages(alloc)
    if request.method == "POST":
        _sync(alloc)
        try:
            flats = draws.parse_flats(request.form.get("flats", ""))
            source = request.form.get("source") or ""
            with sessions().begin() as db:
                if source in stage_choices:  # the applications waiting at a lottery stage of the workflow
                    batch = lottery_stage.create_batch(db, alloc, stage=source, title=request.form.get("title", ""),
                                                       flats=flats, actor=signed_in_account(), today=_today(),
                                                       paths=paths)
                else:
                    batch = draws.create_batch(db, alloc, title=request.form.get("title", ""), flats=flats,
                                               codes=None, actor=signed_in_account(), today=_today(), paths=paths)
            return redirect(url_for(".lottery_batch", batch_id=batch.id))
        except AllocationError as exc:
            flash(exc.message, "error")
    with sessions()() as db:
        batches = list(db.scalars(select(LotteryBatch).where(LotteryBatch.pack == pack, LotteryBatch.matter == matter)
                                  .order_by(LotteryBatch.id.desc())))
    return render_template("housing/lottery_list.html", alloc=alloc, batches=batches,
                           status_titles=draws.STATUS_TITLES, flats_text=request.form.get("flats", ""),
                           stage_choices=stage_choices, source=request.form.get("source", ""))


def _lottery_stages(alloc: Allocation) -> dict[str, str]:
    """The lottery stages (id → title) of the matter's current workflow: a batch may draw among their applications."""
    pack = packs().packs.get(alloc.pack)
    matter = pack.matters.get(alloc.matter) if pack is not None else None
    doc = matter.workflow if matter is not None else None
    return lottery_stage.lottery_stages(doc.content if doc is not None else None)


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
        stage_of = lottery_stage.entrant_stages(db, batch) if batch.stage else {}
        if batch.status == "draft":
            batch.entrants = batch.entrants  # shown as defined
    doc = draws.published(batch)
    return render_template("housing/lottery_batch.html", alloc=alloc, batch=batch, doc=doc, households=households,
                           flats={f["code"]: f for f in batch.flats}, status_titles=STATUS_TITLES,
                           batch_titles=draws.STATUS_TITLES, stage_of=stage_of,
                           stage_title=_lottery_stages(alloc).get(batch.stage or "", batch.stage or ""))



@bp.post("/lottery/<int:batch_id>/commit")
def lottery_commit(batch_id: int):
    if (back := _login_or_redirect()) is not None:
        return back
    _batch_or_404(batch_id)
    try:
        with sessions().begin() as db:
            draws.commit(db, batch_id, signed_in_account(), expected_version=_version(),
                         witness_source=request.form.get("witness_source", ""),
                         witness_sha256=request.form.get("witness_sha256", ""))
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
                       expected_version=_version(), separate_duties=not services().settings.load_demo,
                       calendar=services().calendar)
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
        **download_headers(f"lottery-{batch.id}.json")})


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
    back_to = safe_target(request.form.get("back"), url_for(".archive", household_id=h.id))  # no open redirect
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
