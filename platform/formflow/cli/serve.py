"""Serving: gunicorn where available (several processes), Flask's server otherwise."""

from __future__ import annotations

from typing import Any


def run(host: str, port: int, workers: int) -> None:
    import os

    from formflow.app import create_app
    from formflow.config import Settings

    os.environ.setdefault("FORMFLOW_LOG_FORMAT", "text" if Settings().load_demo else "json")

    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # pragma: no cover - non-POSIX systems
        create_app().run(host=host, port=port)
        return

    class _Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", "-")

        def load(self) -> Any:
            return create_app()

    drop_server_banner()
    _Server().run()


def drop_server_banner() -> None:
    """gunicorn announces itself (`Server: gunicorn`) with no setting to stop it: leave the header out."""
    from gunicorn.http import wsgi

    if getattr(wsgi.Response.default_headers, "formflow_quiet", False):
        return
    original = wsgi.Response.default_headers

    def default_headers(self: Any) -> list[str]:
        return [line for line in original(self) if not line.lower().startswith("server:")]

    default_headers.formflow_quiet = True  # type: ignore[attr-defined]
    wsgi.Response.default_headers = default_headers
