"""Test support shared by every folder: a loaded platform, a signing-in web client."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from formflow.db import make_engine

ROOT = Path(__file__).resolve().parents[1]


TEST_KEYS = "1:" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="


class Platform:
    """A migrated, loaded database plus everything services need, for one test.

    `prepared=True` means the database is a copy of a template that was already
    migrated and loaded (see conftest): only the handles are made here.
    """

    def __init__(self, url: str, root: Path, instance: Path, *, packs=None, prepared: bool = False) -> None:
        from formflow.db import session_factory
        from formflow.db.migrate import upgrade
        from formflow.files.storage import LocalStorage
        from formflow.packs import load_packs
        from formflow.packs.seeding import demo_accounts, load_all
        from formflow.personal.crypto import DataKeys, install

        self.url = url
        self.root = root
        self.instance = instance
        self.engine = make_engine(url)
        self.packs = packs if packs is not None else load_packs(root)
        assert not self.packs.problems, self.packs.problems
        self.keys = DataKeys.parse(TEST_KEYS)
        install(self.keys)
        self.sessions = session_factory(self.engine)
        self.storage = LocalStorage(instance / "files")
        if prepared:
            self.demo_accounts = [a for pack in self.packs.packs.values() for a in demo_accounts(pack)]
        else:
            upgrade(self.engine)
            with self.sessions.begin() as session:
                self.demo_accounts = load_all(session, self.packs, self.keys, demo=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def account(self, username: str):
        from sqlalchemy import select

        from formflow.db.models import Account

        with self.sessions() as session:
            return session.scalar(select(Account).where(Account.username == username))


class WebClient:
    """A Flask test client that signs in the way a person does (CSRF token and all)."""

    def __init__(self, app) -> None:
        self.app = app
        self.client = app.test_client()

    def csrf(self, path: str = "/auth/login") -> str:
        import re

        page = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page) or re.search(
            r'name="csrf_token" value="([^"]+)"', page
        )
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, username: str, password: str | None = None):
        if password is None:
            password = demo_password(username)
        return self.client.post(
            "/auth/login", data={"username": username, "password": password, "csrf_token": self.csrf()}
        )

    def post(self, path: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf(kwargs.pop("token_from", "/auth/login")))
        return self.client.post(path, data=data, **kwargs)

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)


def demo_password(username: str) -> str:
    """The password a pack's demo.yaml gives `username`."""
    import yaml

    for path in (ROOT / "seeds").glob("*/demo.yaml"):
        for account in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("accounts", []):
            if account["username"] == username:
                return account["password"]
    raise KeyError(f"no demo account {username!r}")


def make_web_app(platform: Platform):
    from formflow.app import create_app
    from formflow.config import Settings

    settings = Settings(config_root=platform.root, instance_dir=platform.instance, database_url=platform.url)
    app = create_app(settings, keys=platform.keys, packset=platform.packs)
    app.config["TESTING"] = True
    app.extensions["formflow.services"].storage = platform.storage
    return app


def drain_outbox(target) -> int:
    """Run the outbox worker until nothing is due; how many messages it delivered.

    `target`: a Flask app, a `WebClient` or a `Platform` (notices render with its storage and the
    configuration root's renderers/).
    """
    from types import SimpleNamespace

    from formflow.outbox.worker import batches, load_handlers

    load_handlers()
    if isinstance(target, WebClient):
        target = target.app
    if hasattr(target, "extensions"):  # a Flask app
        services = target.extensions["formflow.services"]
    else:  # a Platform (or a test folder's copy of one)
        services = SimpleNamespace(sessions=target.sessions, storage=target.storage, keys=target.keys,
                                   renderers=target.root / "renderers", packs=target.packs)
    return sum(report.delivered for report in batches(services.sessions, services))


def notice_pdf(platform, notice_id: int) -> bytes:
    """The PDF of notice `notice_id` once the outbox rendered it (drains the outbox first)."""
    from formflow.db.models import Notice

    drain_outbox(platform)
    with platform.sessions() as session:
        row = session.get(Notice, notice_id)
        assert row is not None and row.status == "ready" and row.sha256, f"notice {notice_id} was not rendered"
        return platform.storage.read(row.sha256)


def fresh_postgres(admin_url: str, template: str | None = None) -> tuple[str, Callable[[], None]]:
    """A new PostgreSQL database (copied from `template` when given): its URL, and how to drop it."""
    import uuid

    from sqlalchemy import text

    name = f"formflow_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url, drop
