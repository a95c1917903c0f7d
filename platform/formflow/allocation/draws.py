"""Lottery batches: define flats and entrants, commit (hash of inputs and seed), draw, publish.

States: draft (flats and entrants may change) → committed (inputs frozen,
`inputs_sha256` and `seed_sha256` published; the seed is kept secret) →
drawn (seed revealed, result stored; every household that got a flat is
`offered`, one history event each, all in the draw's transaction).

Against an insider choosing the result (issue 12): the seed is sealed at rest;
the witness is committed before the draw — its source named (`witness_source`,
e.g. "the notary's number read out at the draw" or a named future public value)
and optionally the hash of a value sealed in advance (`witness_sha256`), both
inside the published inputs hash; at the draw a committed witness hash must
match and a named source needs a value. Two committed batches may not share a
household, and with `separate_duties` the person who draws is not the one who
committed.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.allocation import lottery
from formflow.allocation.config import OFFERED, WAITING, Allocation
from formflow.allocation.register import AllocationError, lock_household, mask_name, record, recorded, waiting_list
from formflow.calendars.workdays import WorkCalendar
from formflow.db.models import Account, Household, LotteryBatch, utcnow
from formflow.text.catalogue import DEFAULT_LOCALE, _, in_locale, lazy
from formflow.text.formatting import iso

#: Typed input may separate with the full-width comma too (input normalisation, not text).
FULLWIDTH_COMMA = unicodedata.lookup("FULLWIDTH COMMA")
FLAT_FIELDS = ("code", "address", "layout", "area", "min_size", "max_size")
STATUS_TITLES = {"draft": lazy("Being prepared"), "committed": lazy("Inputs published, to be drawn"),
                 "drawn": lazy("Drawn")}


def parse_flats(text: str) -> list[dict[str, Any]]:
    """One flat per line: code, address, layout, area, fewest and most members it suits (comma or tab separated)."""
    flats: list[dict[str, Any]] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("\t", ",").replace(FULLWIDTH_COMMA, ",").split(",")]
        if len(parts) != len(FLAT_FIELDS):
            raise AllocationError(_("Line %(line)s should have 6 items: code, address, layout, area, smallest and "
                                    "largest household it suits", line=number), code="flat_line", line=number)
        code, address, layout, area, low, high = parts
        try:
            flat: dict[str, Any] = {"code": code, "address": address, "layout": layout, "area": float(area),
                                    "min_size": int(low), "max_size": int(high)}
        except ValueError:
            raise AllocationError(_("Line %(line)s: the area and the household sizes must be numbers", line=number),
                                  code="flat_line", line=number) from None
        if not code or flat["min_size"] < 1 or flat["max_size"] < flat["min_size"]:
            raise AllocationError(_("Line %(line)s: the code may not be empty, the household sizes must be 1 or more "
                                    "and the smallest no larger than the largest", line=number),
                                  code="flat_line", line=number)
        if any(f["code"] == code for f in flats):
            raise AllocationError(_("Line %(line)s: the flat code %(code)s is repeated", line=number, code=code),
                                  code="flat_line", line=number)
        flats.append(flat)
    if not flats:
        raise AllocationError(_("Please enter at least one flat"), code="no_flats")
    return flats


def _fits_any(size: Any, flats: Sequence[Mapping[str, Any]]) -> bool:
    return any(lottery._fits(f, size) for f in flats)


def entrant(h: Household, alloc: Allocation) -> dict[str, Any]:
    return {"code": h.code, "name": mask_name(h.name), "size": (h.facts or {}).get(alloc.size_fact)}


def eligible(session: Session, alloc: Allocation, flats: Sequence[Mapping[str, Any]], *, today: date,
             paths: list[str] | None = None) -> list[Household]:
    """Waiting households (in list order) that at least one flat of the batch suits."""
    return [h for h in waiting_list(session, alloc, today=today, paths=paths)
            if _fits_any((h.facts or {}).get(alloc.size_fact), flats)]


def create_batch(session: Session, alloc: Allocation, *, title: str, flats: list[dict[str, Any]],
                 codes: Sequence[str] | None, actor: Account, today: date,
                 paths: list[str] | None = None) -> LotteryBatch:
    candidates = eligible(session, alloc, flats, today=today, paths=paths)
    if codes is not None:
        wanted = set(codes)
        candidates = [h for h in candidates if h.code in wanted]
    if not candidates:
        raise AllocationError(_("No waiting household suits these flats"), code="no_entrants")
    batch = LotteryBatch(pack=alloc.pack, matter=alloc.matter, mode=alloc.lottery_mode or "",
                         title=title.strip() or str((alloc.lottery or {}).get("title", "")), status="draft",
                         flats=flats, entrants=[entrant(h, alloc) for h in candidates], created_by=actor.id)
    session.add(batch)
    session.flush()
    return batch


def published(batch: LotteryBatch, *, reveal: bool | None = None) -> dict[str, Any]:
    """The batch's public JSON; the seed only once drawn."""
    show = batch.status == "drawn" if reveal is None else reveal
    return lottery.document(
        batch=batch.id, title=batch.title, entrants=batch.entrants, flats=batch.flats,
        seed_sha256=batch.seed_sha256, seed=batch.seed if show else None,
        witness=batch.witness if show else None, result=batch.result if show else None,
        extra={"committed_at": iso(batch.committed_at), "drawn_at": iso(batch.drawn_at),
               "witness_source": batch.witness_source or None, "witness_sha256": batch.witness_sha256 or None,
               # a published record: the authority's language, whoever downloads it
               "verify": in_locale(DEFAULT_LOCALE, "formflow lottery verify <this file>  or  "
                                   "python -m formflow.allocation.lottery verify <this file>")},
    )


def commit(session: Session, batch_id: int, actor: Account, *, expected_version: int | None = None,
           witness_source: str = "", witness_sha256: str = "") -> LotteryBatch:
    """Freeze the inputs: publish their hash, the hash of a fresh secret seed, and the witness committed to."""
    batch = _lock(session, batch_id, expected_version)
    if batch.status != "draft":
        raise AllocationError(_("This batch is already published and cannot be published again"),
                              code="batch_committed")
    digest = (witness_sha256 or "").strip().lower()
    if digest and (len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest)):
        raise AllocationError(_("The witness hash should be a SHA-256 in hexadecimal (64 characters)"),
                              code="witness_hash")
    codes_here = {e["code"] for e in batch.entrants}
    for other in session.scalars(select(LotteryBatch).where(
            LotteryBatch.pack == batch.pack, LotteryBatch.matter == batch.matter,
            LotteryBatch.status == "committed", LotteryBatch.id != batch.id)):
        shared = sorted(codes_here & {e["code"] for e in other.entrants})
        if shared:
            raise AllocationError(_("These households are already in the published batch %(batch)s: %(codes)s",
                                    batch=other.title, codes=_(", ").join(shared)),
                                  code="entrants_in_another_batch", codes=shared)
    batch.witness_source = (witness_source or "").strip()[:300] or None
    batch.witness_sha256 = digest or None
    batch.committed_by = actor.id
    codes = [e["code"] for e in batch.entrants]
    if batch.stage:  # entrants are the applications at a workflow stage (`workflow.lottery_stage`)
        from formflow.workflow.lottery_stage import check_still_at_stage

        check_still_at_stage(session, batch)
    waiting = set(codes) if batch.stage else set(session.scalars(
        select(Household.code).where(Household.code.in_(codes), Household.status == WAITING)))
    gone = [c for c in codes if c not in waiting]
    if gone:
        raise AllocationError(_("These households are no longer waiting; please set up the batch again: %(codes)s",
                                codes=_(", ").join(gone)), code="entrants_gone", codes=gone)
    batch.seed = secrets.token_hex(32)
    batch.seed_sha256 = lottery.seed_digest(batch.seed)
    batch.inputs_sha256 = lottery.inputs_digest(published(batch, reveal=False))
    batch.status = "committed"
    batch.committed_at = utcnow()
    session.flush()
    return batch


def draw(session: Session, batch_id: int, actor: Account, *, witness: str = "", today: date,
         expected_version: int | None = None, separate_duties: bool = False,
         calendar: Callable[[str], WorkCalendar] | None = None) -> LotteryBatch:
    """Reveal the seed, compute the result, offer each allocated flat (one event per household).

    A batch of a lottery stage (`batch.stage`) moves each entrant application to the stage's `on_win` or
    `on_lose` instead (`workflow.lottery_stage.move_entrants`; `calendar(pack)` for the clocks it starts).
    """
    batch = _lock(session, batch_id, expected_version)
    if batch.status != "committed":
        raise AllocationError(_("Only a batch whose inputs are published can be drawn") if batch.status == "draft"
                              else _("This batch has already been drawn"), code="batch_not_committed")
    if separate_duties and batch.committed_by == actor.id:
        raise AllocationError(_("The person who published the batch may not draw it; another member of staff "
                                "must draw"), code="same_person", status=403)
    given = (witness or "").strip()[:200]
    if batch.witness_source and not given:
        raise AllocationError(_("Enter the witness value from the committed source: %(source)s",
                                source=batch.witness_source), code="witness_missing")
    if batch.witness_sha256 and hashlib.sha256(given.encode()).hexdigest() != batch.witness_sha256:
        raise AllocationError(_("The witness value does not match the hash committed before the draw"),
                              code="witness_mismatch")
    batch.witness = given
    batch.result = lottery.draw(batch.entrants, batch.flats, seed=batch.seed or "", witness=batch.witness,
                                inputs_sha256=batch.inputs_sha256 or "")
    batch.status = "drawn"
    batch.drawn_at = utcnow()
    if batch.stage:
        from formflow.workflow.lottery_stage import move_entrants

        move_entrants(session, batch, actor, today=today, calendar=calendar)
        session.flush()
        return batch
    flats = {f["code"]: f for f in batch.flats}
    households = {h.code: h for h in session.scalars(
        select(Household).where(Household.code.in_([r["entrant"] for r in batch.result])))}
    for row in batch.result:
        h = households.get(row["entrant"])
        if h is None or row["flat"] is None:
            continue
        h = lock_household(session, h.id)
        if h.status != WAITING:
            raise AllocationError(_("Household %(code)s is no longer waiting; the draw did not take effect, please "
                                    "set up the batch again", code=h.code), code="entrants_gone", codes=[h.code])
        h.flat = dict(flats[row["flat"]], batch=batch.id)
        record(session, h, "flat_offered", actor, to=OFFERED,
               note=recorded("%(batch)s: drew %(flat)s (place %(order)s)", batch=batch.title, flat=row["flat"],
                             order=row["order"]),
               details={"batch": batch.id, "flat": row["flat"], "ticket": row["ticket"]})
    session.flush()
    return batch


def _lock(session: Session, batch_id: int, expected_version: int | None) -> LotteryBatch:
    query = select(LotteryBatch).where(LotteryBatch.id == batch_id).with_for_update()
    batch = session.scalars(query.execution_options(populate_existing=True)).one_or_none()
    if batch is None:
        raise AllocationError(_("The lottery batch does not exist"), code="batch_not_found", status=404)
    if expected_version is not None and batch.version != expected_version:
        raise AllocationError(_("This batch was updated by someone else; please refresh and try again"),
                              code="batch_stale")
    return batch
