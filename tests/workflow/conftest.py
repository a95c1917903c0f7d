"""Workflow fixtures: a Flow on SQLite (a copy of one loaded database), or on both databases."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from wf_support import ROOT, Flow

from formflow.calendars.workdays import WorkCalendar, load_calendar

DATA_KEYS = "1:" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="


@pytest.fixture(scope="session")
def calendar() -> WorkCalendar:
    return load_calendar(ROOT / "seeds" / "calendar")


class CopiedPlatform:
    """Like conftest's Platform, but on a private copy of a database loaded once per session."""

    def __init__(self, template: Path, packs, root: Path, instance: Path) -> None:
        from formflow.db import make_engine, session_factory
        from formflow.files.storage import LocalStorage
        from formflow.personal.crypto import DataKeys

        instance.mkdir(parents=True, exist_ok=True)
        db = instance / "wf.sqlite3"
        shutil.copyfile(template, db)
        self.url = f"sqlite:///{db}"
        self.root = root
        self.instance = instance
        self.engine = make_engine(self.url)
        self.packs = packs
        self.keys = DataKeys.parse(DATA_KEYS)
        self.sessions = session_factory(self.engine)
        self.storage = LocalStorage(instance / "files")

    @property
    def dialect(self) -> str:
        return "sqlite"

    def account(self, username: str):
        from sqlalchemy import select

        from formflow.db.models import Account

        with self.sessions() as session:
            return session.scalar(select(Account).where(Account.username == username))


@pytest.fixture(scope="session")
def loaded_sqlite(tmp_path_factory):
    """A migrated SQLite file with both packs' offices and demo accounts (built once)."""
    from formflow.db import make_engine, session_factory
    from formflow.db.migrate import upgrade
    from formflow.packs import load_packs
    from formflow.packs.seeding import load_all
    from formflow.personal.crypto import DataKeys

    path = tmp_path_factory.mktemp("wf-template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    packs = load_packs(ROOT)
    assert not packs.problems, packs.problems
    with session_factory(engine).begin() as session:
        load_all(session, packs, DataKeys.parse(DATA_KEYS), demo=True)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path, packs


@pytest.fixture
def wf_sqlite(loaded_sqlite, tmp_path) -> CopiedPlatform:
    template, packs = loaded_sqlite
    p = CopiedPlatform(template, packs, ROOT, tmp_path / "instance")
    yield p
    p.engine.dispose()


@pytest.fixture
def flow(wf_sqlite, calendar) -> Flow:
    return Flow(wf_sqlite, calendar)


@pytest.fixture
def any_flow(platform_db, calendar) -> Flow:
    """The same flow on SQLite and on PostgreSQL."""
    return Flow(platform_db, calendar)


@pytest.fixture
def pg_flow(postgres_platform, calendar) -> Flow:
    return Flow(postgres_platform, calendar)
