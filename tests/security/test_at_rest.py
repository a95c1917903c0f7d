"""Issue 12 — personal data at rest: what the database file holds is sealed, and still works.

Each case reads the raw column (SQL, no ORM) and finds no canary value; its positive control
reads the same row through the application and gets the value back.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

from formflow.db.models import Account, ApiIdempotencyKey, Event

sys.path.append(str(Path(__file__).resolve().parents[1] / "allocation"))

CANARY_NAME = "甄金丝雀"
CANARY_ID = "441402199001011234"
CANARY_MOBILE = "13912345678"


def _raw(sec, sql: str, **params) -> bytes:
    with sec.p.engine.connect() as conn:
        values = conn.execute(text(sql), params).scalars().all()
    return b"".join(v if isinstance(v, bytes) else str(v).encode() for v in values if v is not None)


def _assert_sealed(raw: bytes, *canaries: str) -> None:
    assert raw, "nothing stored"
    for canary in canaries:
        assert canary.encode() not in raw, canary


# --------------------------------------------------------------------------- idempotency cache


def _run(sec, key: str, payload: dict, calls: list, **kw):
    from formflow.api import idempotency

    def work(db):
        calls.append(1)
        return 200, payload

    with sec.app.test_request_context("/api/v1/applications/1/submit", method="POST"):
        return idempotency.run(sec.p.sessions, 1, key, {"version": 1}, work, **kw)


def test_idempotency_response_is_sealed_and_replayed(sec):
    payload = {"members": [{"name": CANARY_NAME, "id_number": CANARY_ID, "mobile": CANARY_MOBILE}]}
    calls: list = []
    first = _run(sec, "k-1", payload, calls)
    again = _run(sec, "k-1", payload, calls)
    assert len(calls) == 1 and again.replayed and again.body == payload == first.body
    _assert_sealed(_raw(sec, "SELECT response FROM api_idempotency_keys"), CANARY_NAME, CANARY_ID, CANARY_MOBILE)


def test_idempotency_key_expires_and_is_pruned(sec):
    from formflow.api.idempotency import prune

    calls: list = []
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    _run(sec, "k-2", {"ok": 1}, calls, now=start, lifetime=timedelta(hours=24))
    assert _run(sec, "k-2", {"ok": 1}, calls, now=start + timedelta(hours=23)).replayed  # still within its day
    assert len(calls) == 1
    later = _run(sec, "k-2", {"ok": 2}, calls, now=start + timedelta(hours=25))
    assert not later.replayed and len(calls) == 2  # expired: as if never used
    with sec.p.sessions.begin() as db:
        assert prune(db, start + timedelta(hours=24)) == 0  # the renewed key lives on
        assert prune(db, start + timedelta(hours=50)) == 1
    with sec.p.sessions() as db:
        assert db.scalars(select(ApiIdempotencyKey)).all() == []


def test_idempotency_lifetime_is_a_setting(monkeypatch):
    from formflow.config import Settings

    monkeypatch.setenv("FORMFLOW_IDEMPOTENCY_HOURS", "6")
    assert Settings().idempotency_hours == 6


# --------------------------------------------------------------------------- history notes


def test_history_note_is_sealed_and_read_back(sec):
    from sec_support import MZ, TODAY, create

    app_id = create(sec.p, MZ, today=TODAY)
    note = f"申请人{CANARY_NAME}电话{CANARY_MOBILE}"
    with sec.p.sessions.begin() as db:
        db.add(Event(application_id=app_id, action="note", note=note, details={}))
    _assert_sealed(_raw(sec, "SELECT note FROM events WHERE application_id = :a", a=app_id), CANARY_NAME,
                   CANARY_MOBILE)
    with sec.p.sessions() as db:
        assert note in db.scalars(select(Event.note).where(Event.application_id == app_id)).all()


# --------------------------------------------------------------------------- households and the roster


def test_household_name_facts_and_roster_rows_are_sealed(sqlite_platform):
    from alloc_support import SUBSIDY, alloc, approved, filed, household

    from formflow.allocation import subsidy

    p = sqlite_platform
    app_id = approved(p, on=date(2026, 1, 20), mode=SUBSIDY, size=2, income=4321.5, name=CANARY_NAME,
                      id_number=CANARY_ID)
    filed(p, date(2026, 2, 1))
    found = household(p, app_id)
    assert found.name == CANARY_NAME and found.facts  # positive control: the application reads them
    with p.sessions.begin() as db:
        actor = db.scalar(select(Account).where(Account.username == "mj-housing"))
        roster = subsidy.build_roster(db, alloc(p), "2026-Q1", actor, today=date(2026, 3, 20))
        assert any(r.get("name") == CANARY_NAME for r in roster.rows), roster.rows  # read back in the clear
    with p.engine.connect() as conn:
        raw = b"".join(bytes(v) for row in conn.execute(text("SELECT name, facts FROM households")).all()
                       for v in row if v is not None)
        rows = [bytes(v) for v in conn.execute(text("SELECT rows FROM subsidy_rosters")).scalars().all()]
    assert raw and CANARY_NAME.encode() not in raw and b"4321" not in raw
    for value in rows:
        assert CANARY_NAME.encode() not in value and CANARY_ID.encode() not in value
    assert rows
