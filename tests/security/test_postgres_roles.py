"""Issue 12 — a PostgreSQL deployment whose application role cannot rewrite history.

A scratch database is migrated by a migration role (the owner); the application role gets
`formflow.db.roles.app_role_grants`. It may add and read history, change applications; it may
not update, delete, truncate or un-trigger the append-only tables.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from formflow.db import make_engine
from formflow.db.migrate import upgrade
from formflow.db.roles import APPEND_ONLY, app_role_grants

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("db")]


@pytest.fixture
def two_roles(postgres_server):
    suffix = uuid.uuid4().hex[:8]
    owner, app, database = f"ff_migrator_{suffix}", f"ff_app_{suffix}", f"formflow_roles_{suffix}"
    admin = make_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {owner} LOGIN"))
        conn.execute(text(f"CREATE ROLE {app} LOGIN"))
        conn.execute(text(f'CREATE DATABASE "{database}" OWNER {owner}'))
    base = postgres_server.rsplit("@", 1)[1].rsplit("/", 1)[0]
    urls = {who: f"postgresql+psycopg://{who}@{base}/{database}" for who in (owner, app)}
    with make_engine(urls[owner], isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
    try:
        yield owner, app, urls
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                         {"n": database})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
            conn.execute(text(f"DROP ROLE IF EXISTS {app}"))
            conn.execute(text(f"DROP ROLE IF EXISTS {owner}"))
        admin.dispose()


def _try(engine, statement: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement))


def test_app_role_adds_history_but_cannot_rewrite_it(two_roles):
    owner, app, urls = two_roles
    migrator = make_engine(urls[owner])
    upgrade(migrator)
    with migrator.begin() as conn:
        for statement in app_role_grants(app):
            conn.execute(text(statement))
    application = make_engine(urls[app])
    # positive controls: the application reads and adds history, and changes ordinary tables
    _try(application, "SELECT count(*) FROM events")
    with application.begin() as conn:
        conn.execute(text("INSERT INTO outbox_messages (kind, key, payload, status, attempts, available_at, "
                          "created_at) VALUES ('k', 'key-1', '\\x00', 'pending', 0, now(), now())"))
        conn.execute(text("UPDATE outbox_messages SET attempts = 1 WHERE key = 'key-1'"))
    for table in APPEND_ONLY:
        _try(application, f"SELECT count(*) FROM {table}")
        for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}", f"TRUNCATE {table}",
                          f"ALTER TABLE {table} DISABLE TRIGGER USER", f"DROP TABLE {table}"):
            with pytest.raises(DBAPIError, match="permission denied|must be owner"):
                _try(application, statement)
    with pytest.raises(DBAPIError, match="permission denied"):
        _try(application, "CREATE TABLE mine (x int)")
    # the migration role, owner of the schema, still can (it is the one to guard)
    _try(migrator, "ALTER TABLE events DISABLE TRIGGER USER")
    _try(migrator, "ALTER TABLE events ENABLE TRIGGER USER")
    application.dispose()
    migrator.dispose()


def test_app_role_may_insert_history_but_not_the_schema_version(two_roles):
    """INSERT on events is granted (a row naming no application fails on its foreign key, not on rights)."""
    owner, app, urls = two_roles
    migrator = make_engine(urls[owner])
    upgrade(migrator)
    with migrator.begin() as conn:
        for statement in app_role_grants(app):
            conn.execute(text(statement))
    application = make_engine(urls[app])
    with pytest.raises(DBAPIError, match="foreign key"):
        _try(application, "INSERT INTO events (application_id, action, at, details) "
                          "VALUES (999999, 'submit', now(), '{}')")
    with pytest.raises(DBAPIError, match="permission denied"):
        _try(application, "UPDATE alembic_version SET version_num = 'forged'")
    application.dispose()
    migrator.dispose()
