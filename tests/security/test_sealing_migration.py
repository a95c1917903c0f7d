"""Issue 12 — migration 0015 seals what earlier versions stored in the clear, on SQLite and PostgreSQL.

A database at revision 0009 is given plaintext rows (household name and facts, a roster, a history
note, a stored idempotency response); after the upgrade the raw columns hold no canary, the
application reads every value back, and the history is still append-only.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError

from formflow.db import make_engine
from formflow.db.migrate import upgrade
from formflow.personal.crypto import DataKeys, install
from support import TEST_KEYS

pytestmark = pytest.mark.xdist_group("db")

NAME, INCOME, NOTE = "甄金丝雀", 4321.5, "电话13912345678"


def _filler(column) -> object:
    kind = column["type"].__class__.__name__.upper()
    if "INT" in kind or "NUMERIC" in kind:
        return 1
    if "BOOL" in kind:
        return False
    if "DATETIME" in kind or "TIMESTAMP" in kind:
        return datetime(2026, 1, 1, tzinfo=UTC)
    if kind == "DATE":
        return date(2026, 1, 1)
    if "JSON" in kind:
        return "{}"
    if "BINARY" in kind or "BLOB" in kind or "BYTEA" in kind:
        return b""
    return "x"


def _insert(conn, inspector, table: str, values: dict) -> None:
    row = {}
    for column in inspector.get_columns(table):
        if column["name"] in values:
            row[column["name"]] = values[column["name"]]
        elif not column["nullable"] and column["name"] != "id" and column.get("default") is None:
            row[column["name"]] = _filler(column)
    row["id"] = 1  # every reference filled in is 1: the account and application made first
    names = ", ".join(row)
    marks = ", ".join(f":{k}" for k in row)
    conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), row)


def test_upgrade_seals_existing_plaintext(empty_database_url):
    install(DataKeys.parse(TEST_KEYS))
    engine = make_engine(empty_database_url)
    upgrade(engine, "0009")
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        conn.execute(text("SET session_replication_role = replica" if postgres else "PRAGMA foreign_keys=OFF"))
        inspector = inspect(conn)
        _insert(conn, inspector, "accounts", {"username": "someone"})
        _insert(conn, inspector, "applications", {})
        facts = json.dumps({"per_capita_income": INCOME}, ensure_ascii=False)
        _insert(conn, inspector, "households", {"code": "H1", "name": NAME, "facts": facts, "id_masked": "4414**"})
        _insert(conn, inspector, "subsidy_rosters", {"rows": json.dumps([{"name": NAME}], ensure_ascii=False),
                                                     "period": "2026-Q1", "total": "1"})
        _insert(conn, inspector, "events", {"note": NOTE, "action": "note"})
        _insert(conn, inspector, "api_idempotency_keys", {"response": json.dumps({"name": NAME}, ensure_ascii=False),
                                                          "key": "k", "request_hash": "h"})
        if postgres:
            conn.execute(text("SET session_replication_role = origin"))
    upgrade(engine)
    with engine.connect() as conn:
        raw = b"".join(bytes(v) for row in conn.execute(text(
            "SELECT h.name, h.facts, r.rows, e.note FROM households h, subsidy_rosters r, events e")).all()
            for v in row)
        assert raw and NAME.encode() not in raw and b"4321" not in raw and b"13912345678" not in raw
        assert conn.execute(text("SELECT count(*) FROM api_idempotency_keys")).scalar() == 0  # a cache: dropped
    from formflow.db import session_factory
    from formflow.db.models import Event, Household, SubsidyRoster

    with session_factory(engine)() as db:  # positive control: the application reads every value back
        household = db.scalar(select(Household))
        assert household.name == NAME and household.facts == {"per_capita_income": INCOME}
        assert db.scalar(select(SubsidyRoster)).rows == [{"name": NAME}]
        assert db.scalar(select(Event.note)) == NOTE
    for statement in ("UPDATE events SET action = 'forged'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(statement))
    engine.dispose()
