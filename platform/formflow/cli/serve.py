"""Serving: gunicorn where available (several processes), Flask's server otherwise.

Each serving process runs the embedded outbox worker thread (`formflow.outbox.embedded`)
unless FORMFLOW_EMBEDDED_WORKER=0, so notices render without a separate `formflow worker`.
"""

from __future__ import annotations

from typing import Any


def run(host: str, port: int, workers: int) -> None:
    from formflow.app import create_app

    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # pragma: no cover - non-POSIX systems
        app = create_app()
        _with_worker(app)
        app.run(host=host, port=port)
        return

    class _Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", "-")

        def load(self) -> Any:
            return _with_worker(create_app())

    _Server().run()


def _with_worker(app: Any) -> Any:
    from formflow.outbox.embedded import start

    start(app.extensions["formflow.services"])
    return app
