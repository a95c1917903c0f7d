"""`create_app(settings)`: wires database, packs and blueprints into a Flask app."""

from __future__ import annotations

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader

from formflow.config import Settings
from formflow.db import make_engine, session_factory
from formflow.packs import PackSet, load_packs
from formflow.personal.crypto import DataKeys
from formflow.personal.crypto import install as install_keys
from formflow.text.catalogue import _


class PackProblems(RuntimeError):
    """The configuration has problems; the app refuses to start on them."""


def create_app(
    settings: Settings | None = None, *, keys: DataKeys | None = None, packset: PackSet | None = None
) -> Flask:
    """The web application; `packset` may be passed when the caller already loaded the packs."""
    settings = settings or Settings()
    packset = packset if packset is not None else load_packs(settings.config_root)
    if packset.problems:
        listing = "\n".join(f"  {p}" for p in packset.problems)
        raise PackProblems(_("The configuration packs have %(n)s problems:\n%(listing)s", n=len(packset.problems),
                             listing=listing))
    from formflow.services import check_plugins

    # production refuses keys kept beside the data, before anything else is checked
    keys = keys or DataKeys.from_environment(settings.instance_dir, demo=settings.load_demo)
    check_plugins(settings)  # a misconfigured identity, e-licence, SMS or storage plugin refuses the start
    app = Flask(__name__, static_folder=str(settings.renderers_dir / "static"))
    app.config["SECRET_KEY"] = settings.secret_key or _instance_secret(settings)
    app.extensions["formflow"] = {
        "settings": settings,
        "packs": packset,
        "engine": (engine := make_engine(settings.database_url)),
        "sessions": session_factory(engine),
        "keys": keys,  # read before the plugins are checked: a key beside the data is the first thing refused
    }
    install_keys(app.extensions["formflow"]["keys"])
    from formflow.notifications.registry import install as install_messages

    install_messages(packset)  # message kinds: written in the flush of each change (formflow.notifications)
    from formflow.services import Clock, Services

    app.extensions["formflow.services"] = Services(
        settings=settings, packs=packset, sessions=app.extensions["formflow"]["sessions"],
        keys=app.extensions["formflow"]["keys"], clock=Clock(timezone=settings.timezone))
    app.config["BABEL_DEFAULT_TIMEZONE"] = settings.timezone
    from formflow.text import catalogue, formatting

    catalogue.init_app(app)
    formatting.init_app(app)
    app.config["MAX_CONTENT_LENGTH"] = settings.upload_limit_bytes + 1024 * 1024
    app.jinja_loader = ChoiceLoader([FileSystemLoader(str(settings.renderers_dir / "html"))])
    _register_blueprints(app)
    from formflow.web import navigation

    navigation.init_app(app)
    from formflow.web import errors as error_pages

    error_pages.install(app)
    app.after_request(_security_headers)
    return app


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "object-src 'none'; frame-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def _security_headers(response):
    """No inline script, no framing, no sniffing, no referrer leaks."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response


BLUEPRINTS = ("public", "auth", "portal", "desk", "admin", "api", "housing", "audit", "ops", "outbox_admin")


def _register_blueprints(app: Flask) -> None:
    """Every web area is a blueprint in formflow.web.<name> exposing `bp` (and optional `init_app`)."""
    import importlib

    for name in BLUEPRINTS:
        module = importlib.import_module(f"formflow.web.{name}")
        if hasattr(module, "init_app"):
            module.init_app(app)
        app.register_blueprint(module.bp)


def _instance_secret(settings: Settings) -> str:
    """The embedded default keeps a random session secret in instance/ (made once)."""
    import os
    import secrets

    path = settings.instance_dir / "secret.key"
    if not path.exists():
        settings.instance_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()
