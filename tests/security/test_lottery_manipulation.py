"""Issue 12 — an insider cannot choose the lottery's result.

The seed is sealed at rest; the witness is committed (source named, optionally a hash) before the draw and
a different value is refused; two committed batches may not share a household; with separated duties the
person who committed cannot draw. Each refusal has its positive control.
"""

from __future__ import annotations

import hashlib
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

sys.path.append(str(Path(__file__).resolve().parents[1] / "allocation"))

from alloc_support import FLAT, account, alloc, approved, filed  # noqa: E402

from formflow.allocation import draws  # noqa: E402
from formflow.allocation.register import AllocationError  # noqa: E402

DAY = date(2026, 4, 15)
FLATS = "F-101, 江南路1号101, 一室一厅, 40.5, 1, 2\nF-201, 江南路1号201, 两室一厅, 60, 3, 4"


def _batch(p, title="2026年第一批", sizes=(1, 2, 3)) -> int:
    for i, n in enumerate(sizes):
        approved(p, on=date(2026, 3, 1 + i), mode=FLAT, size=n)
    filed(p, DAY)
    return _another(p, title)


def _another(p, title: str) -> int:
    with p.sessions.begin() as s:
        return draws.create_batch(s, alloc(p), title=title, flats=draws.parse_flats(FLATS), codes=None,
                                  actor=account(p, "mj-housing"), today=DAY).id


def test_the_seed_is_sealed_at_rest(sqlite_platform):
    p = sqlite_platform
    batch_id = _batch(p)
    with p.sessions.begin() as s:
        seed = draws.commit(s, batch_id, account(p, "mj-housing"), witness_source="公证员现场宣读").seed
    with p.engine.connect() as conn:
        raw = bytes(conn.execute(text("SELECT seed FROM lottery_batches WHERE id = :i"), {"i": batch_id}).scalar())
    assert seed and seed.encode() not in raw  # the application holds it; the database file does not show it


def test_a_witness_other_than_the_committed_one_is_refused(sqlite_platform):
    p = sqlite_platform
    batch_id = _batch(p)
    sealed = "07 19 23"
    with p.sessions.begin() as s:
        draws.commit(s, batch_id, account(p, "mj-housing"), witness_source="公证员事先密封的号码",
                     witness_sha256=hashlib.sha256(sealed.encode()).hexdigest())
        published = draws.published(s.get(draws.LotteryBatch, batch_id))
        assert published["witness_source"] == "公证员事先密封的号码" and published["witness_sha256"]
    for chosen in ("08 19 23", ""):
        with pytest.raises(AllocationError) as refused, p.sessions.begin() as s:
            draws.draw(s, batch_id, account(p, "mj-community"), witness=chosen, today=DAY)
        assert refused.value.code in ("witness_mismatch", "witness_missing")
    with p.sessions.begin() as s:  # positive control: the committed value draws
        assert draws.draw(s, batch_id, account(p, "mj-community"), witness=sealed, today=DAY).status == "drawn"


def test_a_named_source_needs_a_value_at_the_draw(sqlite_platform):
    p = sqlite_platform
    batch_id = _batch(p)
    with p.sessions.begin() as s:
        draws.commit(s, batch_id, account(p, "mj-housing"), witness_source="2026-04-16 福彩3D开奖号码")
    with pytest.raises(AllocationError, match="福彩3D") as refused, p.sessions.begin() as s:
        draws.draw(s, batch_id, account(p, "mj-community"), witness="", today=DAY)
    assert refused.value.code == "witness_missing"
    with p.sessions.begin() as s:
        assert draws.draw(s, batch_id, account(p, "mj-community"), witness="385", today=DAY).witness == "385"


def test_two_committed_batches_may_not_share_a_household(sqlite_platform):
    p = sqlite_platform
    first = _batch(p)
    second = _another(p, "同一批人再来一次")
    with p.sessions.begin() as s:
        draws.commit(s, first, account(p, "mj-housing"))
    with pytest.raises(AllocationError) as refused, p.sessions.begin() as s:
        draws.commit(s, second, account(p, "mj-housing"))
    assert refused.value.code == "entrants_in_another_batch" and "2026年第一批" in refused.value.message
    with p.sessions.begin() as s:  # positive control: once the first is drawn its offered households leave
        draws.draw(s, first, account(p, "mj-community"), today=DAY)
    with p.sessions.begin() as s:
        try:
            draws.commit(s, second, account(p, "mj-housing"))
        except AllocationError as exc:  # what remains may no longer be waiting: a different refusal
            assert exc.code != "entrants_in_another_batch"


def test_who_commits_does_not_draw_when_duties_are_separated(sqlite_platform):
    p = sqlite_platform
    batch_id = _batch(p)
    with p.sessions.begin() as s:
        draws.commit(s, batch_id, account(p, "mj-housing"))
    with pytest.raises(AllocationError) as refused, p.sessions.begin() as s:
        draws.draw(s, batch_id, account(p, "mj-housing"), today=DAY, separate_duties=True)
    assert refused.value.code == "same_person"
    with p.sessions.begin() as s:  # positive control: a colleague draws
        assert draws.draw(s, batch_id, account(p, "mj-community"), today=DAY, separate_duties=True).status == "drawn"


def test_verify_finds_a_witness_changed_after_the_commitment(sqlite_platform):
    """`formflow lottery verify` checks the published witness against the hash committed before the draw."""
    from formflow.allocation import lottery

    p = sqlite_platform
    batch_id = _batch(p)
    sealed = "07 19 23"
    with p.sessions.begin() as s:
        draws.commit(s, batch_id, account(p, "mj-housing"), witness_source="公证员事先密封的号码",
                     witness_sha256=hashlib.sha256(sealed.encode()).hexdigest())
    with p.sessions.begin() as s:
        draws.draw(s, batch_id, account(p, "mj-community"), witness=sealed, today=DAY)
        published = draws.published(s.get(draws.LotteryBatch, batch_id), reveal=True)
    assert lottery.verify(published) == []  # positive control: the document as published checks out
    forged = dict(published, witness="08 19 23")
    forged["result"] = lottery.draw(forged["entrants"], forged["flats"], seed=forged["seed"],
                                    witness=forged["witness"], inputs_sha256=forged["inputs_sha256"])
    assert any("witness_sha256" in problem for problem in lottery.verify(forged))
