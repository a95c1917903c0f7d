"""Shared fixtures: configuration root, databases (SQLite and PostgreSQL), apps."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text

from formflow.db import make_engine
from support import Platform, WebClient, demo_password, fresh_postgres, make_web_app  # noqa: F401 (re-exported)

ROOT = Path(__file__).resolve().parents[1]

# Property tests check behaviour, not speed: no per-example deadline on a loaded 2-core machine.
settings.register_profile("formflow", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("formflow")
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


_fresh_postgres = fresh_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request, tmp_path: Path):
    """An empty database of each kind: a SQLite file, a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    url, drop = _fresh_postgres(request.getfixturevalue("postgres_server"))
    yield url
    drop()


@pytest.fixture(scope="session")
def shipped_packs():
    """The shipped packs, loaded and checked once per test process."""
    from formflow.packs import load_packs

    return load_packs(ROOT)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, shipped_packs) -> Path:
    """A SQLite file migrated and loaded once; each test gets a copy."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.sqlite3"
    p = Platform(f"sqlite:///{path}", ROOT, folder / "instance", packs=shipped_packs)
    with p.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    p.engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server, shipped_packs):
    """A PostgreSQL database migrated and loaded once; each test gets CREATE DATABASE … TEMPLATE."""
    url, drop = _fresh_postgres(postgres_server)
    p = Platform(url, ROOT, Path("/nonexistent"), packs=shipped_packs)
    p.engine.dispose()
    yield url.rsplit("/", 1)[1]
    drop()


def _sqlite_copy(template: Path, tmp_path: Path, packs) -> Platform:
    target = tmp_path / "p.sqlite3"
    shutil.copyfile(template, target)
    return Platform(f"sqlite:///{target}", ROOT, tmp_path / "instance", packs=packs, prepared=True)


def _postgres_copy(server: str, template: str, tmp_path: Path, packs):
    url, drop = _fresh_postgres(server, template=template)
    return Platform(url, ROOT, tmp_path / "instance", packs=packs, prepared=True), drop


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def platform_db(request, tmp_path: Path, shipped_packs) -> Platform:
    """A loaded platform on SQLite and on PostgreSQL (parametrised)."""
    if request.param == "sqlite":
        p = _sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path, shipped_packs)
        yield p
        p.engine.dispose()
        return
    p, drop = _postgres_copy(request.getfixturevalue("postgres_server"),
                             request.getfixturevalue("postgres_template"), tmp_path, shipped_packs)
    yield p
    p.engine.dispose()
    drop()


@pytest.fixture
def sqlite_platform(sqlite_template, tmp_path: Path, shipped_packs) -> Platform:
    """A loaded platform on SQLite only (for tests whose subject is not the database)."""
    p = _sqlite_copy(sqlite_template, tmp_path, shipped_packs)
    yield p
    p.engine.dispose()


@pytest.fixture
def postgres_platform(postgres_server: str, postgres_template: str, tmp_path: Path, shipped_packs) -> Platform:
    """A loaded platform on a fresh PostgreSQL database (concurrency tests)."""
    p, drop = _postgres_copy(postgres_server, postgres_template, tmp_path, shipped_packs)
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
