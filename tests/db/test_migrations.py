"""Migrations build the schema from empty on SQLite and PostgreSQL; the history is append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from formflow.db import make_engine
from formflow.db.migrate import current_revision, head_revision, upgrade
from formflow.db.models import Base

pytestmark = pytest.mark.xdist_group("db")


def test_upgrade_empty_database_to_head(empty_database_url):
    engine = make_engine(empty_database_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    upgrade(engine)  # a second run is a no-op, not an error
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_models_match_migrations(empty_database_url):
    """Every model column exists in the migrated database (no model change without a migration)."""
    engine = make_engine(empty_database_url)
    upgrade(engine)
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert {c.name for c in table.columns} <= columns, table.name
    engine.dispose()


def test_history_events_cannot_be_updated_or_deleted(platform_db):
    from formflow.db.models import Account, Application

    with platform_db.sessions.begin() as session:
        applicant = session.query(Account).first()
        session.add(Application(pack="p", matter="m", applicant_id=applicant.id, data={}, versions={}))
    with platform_db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO events (application_id, action, at, details)"
            " VALUES ((SELECT max(id) FROM applications), 'submit', CURRENT_TIMESTAMP, '{}')"
        ))
    for statement in ("UPDATE events SET action = 'forged'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="append-only"):
            with platform_db.engine.begin() as conn:
                conn.execute(text(statement))
    with platform_db.engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM events")).scalars().all() == ["submit"]


def test_application_data_is_encrypted_at_rest(platform_db):
    """What a citizen typed (ID numbers, income) is not readable in the database file."""
    from formflow.db.models import Account, Application

    secret = {"members": {"applicant": {"id_number": "441402198803150314", "monthly_income": 1234.5}}}
    with platform_db.sessions.begin() as session:
        applicant = session.query(Account).first()
        app = Application(pack="p", matter="m", applicant_id=applicant.id, data=secret, versions={})
        session.add(app)
        session.flush()
        app_id = app.id
    with platform_db.engine.connect() as conn:
        raw = bytes(conn.execute(text("SELECT data FROM applications WHERE id = :i"), {"i": app_id}).scalar_one())
    assert b"441402198803150314" not in raw and b"monthly_income" not in raw
    with platform_db.sessions() as session:
        assert session.get(Application, app_id).data == secret
