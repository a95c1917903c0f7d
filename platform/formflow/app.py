"""`create_app(settings)`: wires database, packs and blueprints into a Flask app."""

from __future__ import annotations

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader

from formflow.config import Settings
from formflow.db import make_engine, session_factory
from formflow.packs import load_packs


class PackProblems(RuntimeError):
    """The configuration has problems; the app refuses to start on them."""


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    packset = load_packs(settings.config_root)
    if packset.problems:
        listing = "\n".join(f"  {p}" for p in packset.problems)
        raise PackProblems(f"配置包有 {len(packset.problems)} 个问题：\n{listing}")
    app = Flask(__name__, static_folder=str(settings.renderers_dir / "static"))
    app.config["SECRET_KEY"] = settings.secret_key or _instance_secret(settings)
    app.extensions["formflow"] = {
        "settings": settings,
        "packs": packset,
        "engine": (engine := make_engine(settings.database_url)),
        "sessions": session_factory(engine),
    }
    app.jinja_loader = ChoiceLoader([FileSystemLoader(str(settings.renderers_dir / "html"))])
    from formflow.web.public import bp as public_bp

    app.register_blueprint(public_bp)
    return app


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
