"""Shared fixtures: configuration root, databases (SQLite and PostgreSQL), apps."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from formflow.db import make_engine
from support import Platform, WebClient, demo_password, make_web_app  # noqa: F401 (re-exported)

ROOT = Path(__file__).resolve().parents[1]
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def config_root() -> Path:
    return ROOT


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped configuration, to break on purpose."""
    dest = tmp_path / "config"
    for name in ("schemas", "workflows", "seeds", "renderers"):
        shutil.copytree(ROOT / name, dest / name)
    return dest


def _postgres_admin_url() -> str:
    return os.environ.get("FORMFLOW_TEST_DATABASE_URL", PG_DEFAULT)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """URL of a reachable PostgreSQL; skips (or fails under CI=true) when there is none."""
    url = _postgres_admin_url()
    try:
        engine = make_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        message = f"PostgreSQL not reachable at {url}: {exc.__class__.__name__}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(message)
    return url


def _fresh_postgres(admin_url: str) -> tuple[str, callable]:
    name = f"formflow_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url, drop


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request, tmp_path: Path):
    """An empty database of each kind: a SQLite file, a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    url, drop = _fresh_postgres(request.getfixturevalue("postgres_server"))
    yield url
    drop()


@pytest.fixture
def platform_db(empty_database_url, tmp_path: Path) -> Platform:
    """A loaded platform on SQLite and on PostgreSQL (parametrised)."""
    p = Platform(empty_database_url, ROOT, tmp_path / "instance")
    yield p
    p.engine.dispose()


@pytest.fixture
def sqlite_platform(tmp_path: Path) -> Platform:
    """A loaded platform on SQLite only (for tests whose subject is not the database)."""
    p = Platform(f"sqlite:///{tmp_path / 'p.sqlite3'}", ROOT, tmp_path / "instance")
    yield p
    p.engine.dispose()


@pytest.fixture
def postgres_platform(postgres_server: str, tmp_path: Path) -> Platform:
    """A loaded platform on a fresh PostgreSQL database (concurrency tests)."""
    url, drop = _fresh_postgres(postgres_server)
    p = Platform(url, ROOT, tmp_path / "instance")
    yield p
    p.engine.dispose()
    drop()


@pytest.fixture
def web(sqlite_platform) -> WebClient:
    """The web app over a loaded SQLite platform, with a signing-in test client."""
    return WebClient(make_web_app(sqlite_platform))


@pytest.fixture
def web_on_each_database(platform_db) -> WebClient:
    """The same, on SQLite and on PostgreSQL."""
    return WebClient(make_web_app(platform_db))
