"""A benchmark database: made, migrated and loaded (offices, demo accounts), then dropped."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from formflow.db import make_engine, session_factory

ROOT = Path(__file__).resolve().parents[1]
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: Data keys of the benchmark (like the tests' TEST_KEYS): never a real deployment's.
BENCH_KEYS = "1:" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="


def postgres_admin_url() -> str:
    return os.environ.get("FORMFLOW_BENCH_DATABASE_URL", PG_DEFAULT)


@dataclass
class BenchDatabase:
    """One migrated, loaded database of one kind, and what services need around it."""

    kind: str
    url: str
    engine: Engine
    sessions: Any
    packs: Any
    keys: Any
    storage: Any
    instance: Path
    _drop: Any = field(default=None, repr=False)

    def close(self) -> None:
        self.engine.dispose()
        if self._drop is not None:
            self._drop()
        shutil.rmtree(self.instance, ignore_errors=True)


def _postgres_database(admin_url: str) -> tuple[str, Any]:
    name = f"formflow_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                         {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url, drop


def postgres_reachable(admin_url: str) -> str | None:
    """None when PostgreSQL answers at `admin_url`, else why not."""
    try:
        engine = make_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def open_database(kind: str, packs: Any, workdir: Path | None = None) -> BenchDatabase:
    """A fresh database of `kind` (sqlite | postgresql), migrated and loaded with demo accounts."""
    from formflow.db.migrate import upgrade
    from formflow.files.storage import LocalStorage
    from formflow.packs.seeding import load_all
    from formflow.personal.crypto import DataKeys, install

    instance = Path(tempfile.mkdtemp(prefix=f"formflow-bench-{kind}-", dir=workdir))
    drop = None
    if kind == "sqlite":
        url = f"sqlite:///{instance / 'bench.sqlite3'}"
    elif kind == "postgresql":
        url, drop = _postgres_database(postgres_admin_url())
    else:
        raise ValueError(f"unknown database kind {kind!r}")
    keys = DataKeys.parse(BENCH_KEYS)
    install(keys)
    engine = make_engine(url)
    try:
        upgrade(engine)
        sessions = session_factory(engine)
        with sessions.begin() as session:
            load_all(session, packs, keys, demo=True)
    except BaseException:
        engine.dispose()
        if drop is not None:
            drop()
        shutil.rmtree(instance, ignore_errors=True)
        raise
    return BenchDatabase(kind, url, engine, sessions, packs, keys, LocalStorage(instance / "files"), instance, drop)


__all__ = ["BENCH_KEYS", "ROOT", "BenchDatabase", "open_database", "postgres_admin_url", "postgres_reachable"]
