"""The lottery: committed before, revealed after, recomputed by anyone from the published JSON alone."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest
from alloc_support import FLAT, ROOT, account, alloc, approved, filed, household
from click.testing import CliRunner
from sqlalchemy import select

from formflow.allocation import draws, lottery, register
from formflow.db.models import Household, HouseholdEvent

DAY = date(2026, 4, 15)
FLATS = ("F-101, 江南路1号101, 一室一厅, 40.5, 1, 2\n"
         "F-201, 江南路1号201, 两室一厅, 60, 3, 4\nF-301, 江南路1号301, 两室一厅, 58, 3, 5")


def _batch(p, sizes=(1, 2, 3, 4, 6)):
    ids = [approved(p, on=date(2026, 3, 1 + i), mode=FLAT, size=n) for i, n in enumerate(sizes)]
    filed(p, DAY)
    a = alloc(p)
    with p.sessions.begin() as s:
        batch = draws.create_batch(s, a, title="2026年第一批", flats=draws.parse_flats(FLATS), codes=None,
                                   actor=account(p, "mj-housing"), today=DAY)
        return batch.id, ids


def test_pure_draw_is_deterministic_and_verifiable():
    entrants = [{"code": f"H{i}", "name": "陈*", "size": i % 4 + 1} for i in range(8)]
    flats = [{"code": "A", "min_size": 1, "max_size": 2}, {"code": "B", "min_size": 3, "max_size": 4}]
    doc = lottery.document(batch=1, title="t", entrants=entrants, flats=flats, seed_sha256=lottery.seed_digest("s"))
    result = lottery.draw(entrants, flats, seed="s", witness="w", inputs_sha256=doc["inputs_sha256"])
    assert result == lottery.draw(entrants, flats, seed="s", witness="w", inputs_sha256=doc["inputs_sha256"])
    assert sorted(r["flat"] for r in result if r["flat"]) == ["A", "B"]
    done = dict(doc, seed="s", witness="w", result=result)
    assert lottery.verify(done) == []
    assert lottery.verify(dict(done, seed="other"))            # seed does not match its hash
    assert lottery.verify(dict(done, witness="x"))             # result no longer recomputes
    swapped = [dict(r) for r in result]
    swapped[0]["flat"], swapped[-1]["flat"] = swapped[-1]["flat"], swapped[0]["flat"]
    assert lottery.verify(dict(done, result=swapped))
    assert lottery.verify(dict(done, entrants=entrants[1:]))   # inputs changed after the commitment


def test_a_drawn_batch_recomputes_from_its_published_file(platform_db, tmp_path):
    p = platform_db
    batch_id, _ids = _batch(p)
    with p.sessions.begin() as s:
        draft = s.get(draws.LotteryBatch, batch_id)
        assert [e["size"] for e in draft.entrants] == [1, 2, 3, 4]  # size 6 suits no flat: not entered
        committed = draws.commit(s, batch_id, account(p, "mj-housing"))
        before = draws.published(committed)
        assert before["seed"] is None and before["result"] is None and len(before["seed_sha256"]) == 64
        seed_hash, inputs_hash = committed.seed_sha256, committed.inputs_sha256
    with p.sessions.begin() as s:
        drawn = draws.draw(s, batch_id, account(p, "mj-housing"), witness="公证员宣读：07 19 23", today=DAY)
        doc = draws.published(drawn)
    assert doc["seed_sha256"] == seed_hash and doc["inputs_sha256"] == inputs_hash
    assert lottery.seed_digest(doc["seed"]) == seed_hash
    path = tmp_path / "lottery.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    # the published command, from the file alone, in a fresh interpreter
    out = subprocess.run([sys.executable, "-m", "formflow.allocation.lottery", "verify", str(path)],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "验证通过" in out.stdout
    # and through `formflow lottery verify`
    import click

    from formflow.cli import allocation

    group = click.Group()
    allocation.register(group)
    assert CliRunner().invoke(group, ["lottery", "verify", str(path)]).exit_code == 0
    # a forged result is caught
    forged = dict(doc, result=list(reversed(doc["result"])))
    path.write_text(json.dumps(forged, ensure_ascii=False), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "formflow.allocation.lottery", "verify", str(path)],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1 and "不一致" in out.stdout
    # the households that got a flat are offered it, each with its history event
    winners = {r["entrant"]: r["flat"] for r in doc["result"] if r["flat"]}
    assert len(winners) == 3
    with p.sessions() as s:
        for code, flat in winners.items():
            h = s.scalar(select(Household).where(Household.code == code))
            assert h.status == "offered" and h.flat["code"] == flat
            assert s.scalar(select(HouseholdEvent).where(HouseholdEvent.household_id == h.id,
                                                         HouseholdEvent.action == "flat_offered")) is not None


def test_declining_goes_back_to_the_end_of_the_list_and_accepting_houses(sqlite_platform):
    p = sqlite_platform
    batch_id, ids = _batch(p, sizes=(1, 3))
    with p.sessions.begin() as s:
        draws.commit(s, batch_id, account(p, "mj-housing"))
    with p.sessions.begin() as s:
        draws.draw(s, batch_id, account(p, "mj-housing"), today=DAY)
    first, second = household(p, ids[0]), household(p, ids[1])
    assert first.status == second.status == "offered"
    a = alloc(p)
    later = date(2026, 5, 6)
    with p.sessions.begin() as s:
        register.decline_offer(s, a, first.id, account(p, "mj-housing"), today=later)
        register.accept_offer(s, second.id, account(p, "mj-housing"), today=later)
    first, second = household(p, ids[0]), household(p, ids[1])
    assert (first.status, first.queued_on, first.declines, first.flat) == ("waiting", later, 1, None)
    assert (second.status, second.since) == ("housed", later)
    # the pack's rule: a second decline takes the household off the list
    newer = approved(p, on=date(2026, 4, 1), mode=FLAT, size=2)
    filed(p, DAY)
    with p.sessions() as s:
        order = [h.code for h in register.waiting_list(s, a, today=later)]
    assert order == [household(p, newer).code, first.code]  # the decliner now queues from its decline day
    with p.sessions.begin() as s:
        h = s.get(Household, first.id)
        h.status, h.flat = "offered", {"code": "F-9"}
        register.record(s, h, "flat_offered", None)
    with p.sessions.begin() as s:
        register.decline_offer(s, a, first.id, account(p, "mj-housing"), today=later)
    assert household(p, ids[0]).status == "removed"


def test_a_committed_batch_cannot_change_and_drawing_needs_a_commitment(sqlite_platform):
    p = sqlite_platform
    batch_id, _ = _batch(p, sizes=(2,))
    with p.sessions.begin() as s, pytest.raises(register.AllocationError):
        draws.draw(s, batch_id, account(p, "mj-housing"), today=DAY)
    with p.sessions.begin() as s:
        draws.commit(s, batch_id, account(p, "mj-housing"))
    with p.sessions.begin() as s, pytest.raises(register.AllocationError):
        draws.commit(s, batch_id, account(p, "mj-housing"))


def test_lottery_pages_publish_before_and_after(site):
    p = site.p
    batch_id, _ = _batch(p, sizes=(1, 3))
    housing = site.client("mj-housing")
    page = housing.get(f"/housing/lottery/{batch_id}").get_data(as_text=True)
    assert "公布参加户、房源和种子哈希" in page
    assert site.client().get(f"/public/lottery/{batch_id}").status_code == 404  # a draft is not public
    token_page = f"/housing/lottery/{batch_id}"
    assert housing.post(f"/housing/lottery/{batch_id}/commit", token_from=token_page).status_code == 302
    public = site.client().get(f"/public/lottery/{batch_id}").get_data(as_text=True)
    assert "（抽签后公布）" in public
    assert housing.post(f"/housing/lottery/{batch_id}/draw", {"witness": "07 19"},
                        token_from=token_page).status_code == 302
    doc = site.client().get(f"/public/lottery/{batch_id}.json").get_json()
    assert lottery.verify(doc) == [] and doc["witness"] == "07 19"
    assert doc["seed"] in site.client().get(f"/public/lottery/{batch_id}").get_data(as_text=True)
    assert site.client("mj-citizen-chen").get(f"/housing/lottery/{batch_id}").status_code == 404
