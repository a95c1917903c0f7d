"""Public pages: the localities and matters on offer, and a health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text

from formflow.text.catalogue import _
from formflow.web.context import packs, sessions

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    return render_template("home.html", packs=list(packs().packs.values()))


@bp.get("/healthz")
def health():
    with sessions()() as session:
        session.execute(text("SELECT 1"))
    return jsonify(status="ok", packs=sorted(packs().packs))


# --------------------------------------------------------------------------- published after approval


def _published_allocation(pack: str, matter: str):
    from flask import abort

    from formflow.allocation.config import allocation_of

    alloc = allocation_of(packs(), pack, matter)
    if alloc is None or not alloc.waiting_list.get("publish"):
        abort(404)
    return alloc


@bp.get("/public/<pack>/<matter>/waiting-list")
def waiting_list(pack: str, matter: str):
    """The waiting list as published on the government website: names and ID numbers masked."""
    from flask import request
    from sqlalchemy import select

    from formflow.allocation import register
    from formflow.db.models import LotteryBatch
    from formflow.documents.exports import CSV, XLSX, Sheet, csv_bytes, xlsx_bytes
    from formflow.web.housing import _download, _today, waiting_rows

    alloc = _published_allocation(pack, matter)
    with sessions()() as session:
        households = register.waiting_list(session, alloc, today=_today())
        batches = list(session.scalars(select(LotteryBatch).where(
            LotteryBatch.pack == pack, LotteryBatch.matter == matter, LotteryBatch.status != "draft")
            .order_by(LotteryBatch.id.desc())))
    header, rows = waiting_rows(alloc, households, public=True)
    title = str(alloc.waiting_list.get("title") or "")
    if request.args.get("format") == "csv":
        return _download(csv_bytes(header, rows), CSV, f"{title}.csv")
    if request.args.get("format") == "xlsx":
        return _download(xlsx_bytes([Sheet(_("Waiting register"), header, rows, title=title)]), XLSX, f"{title}.xlsx")
    return render_template("public/waiting_list.html", alloc=alloc, title=title, header=header, rows=rows,
                           batches=batches, today=_today(), rule=alloc.waiting_list.get("order") or [])


def _public_batch(batch_id: int):
    from flask import abort

    from formflow.db.models import LotteryBatch

    with sessions()() as session:
        batch = session.get(LotteryBatch, batch_id)
    if batch is None or batch.status == "draft":
        abort(404)
    _published_allocation(batch.pack, batch.matter)
    return batch


@bp.get("/public/lottery/<int:batch_id>")
def lottery(batch_id: int):
    """A lottery batch as published: inputs and hashes before the draw, seed and result after."""
    from formflow.allocation import draws

    batch = _public_batch(batch_id)
    return render_template("public/lottery.html", batch=batch, doc=draws.published(batch),
                           flats={f["code"]: f for f in batch.flats}, batch_titles=draws.STATUS_TITLES)


@bp.get("/public/lottery/<int:batch_id>.json")
def lottery_json(batch_id: int):
    from formflow.web.housing import lottery_response

    return lottery_response(_public_batch(batch_id))
