"""Serving: gunicorn where available (several processes), Flask's server otherwise.

Slow clients: keep-alive connections are closed after `KEEPALIVE` seconds idle, a
worker stuck longer than `TIMEOUT` is replaced, and request lines and headers are
bounded in number and size. A gthread worker hands a connection back to its poller
when no data arrives for a few seconds, but it cannot put a deadline on headers that
trickle in: in production a reverse proxy buffers requests in front of it
(docs/nginx.conf, README "Production").

Each serving process runs the embedded outbox worker thread (`formflow.outbox.embedded`)
unless FORMFLOW_EMBEDDED_WORKER=0, so notices render without a separate `formflow worker`.

Heavy work: `formflow serve` starts one helper process (`formflow.sidecar`) shared by its
workers for Argon2id checks (64 MiB each) and PDF rendering (fpdf2 and fontTools), so neither is
in any worker's memory (FORMFLOW_SERVE_HELPER=0 keeps both in the workers).

Memory: glibc gives each thread that allocates its own malloc arena (up to 8 per core),
and freed memory stays in the arena it came from. `formflow serve` limits a process to
`MALLOC_ARENAS` arenas (glibc's MALLOC_ARENA_MAX; a value already in the environment
wins) before the workers start, so the request threads and the outbox thread share them.
"""

from __future__ import annotations

from typing import Any

#: Seconds an idle kept-alive connection stays open.
KEEPALIVE = 5
#: Seconds a worker may be silent before it is replaced (a request stuck that long is ended).
TIMEOUT = 30
#: Seconds workers get to finish their requests on a restart.
GRACEFUL_TIMEOUT = 20
#: glibc malloc arenas per serving process (MALLOC_ARENA_MAX), unless the environment sets it.
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)


def gunicorn_options(host: str, port: int, workers: int) -> dict[str, Any]:
    """The gunicorn settings `formflow serve` runs with."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "keepalive": KEEPALIVE,
        "timeout": TIMEOUT,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
        "accesslog": "-",
    }


def run(host: str, port: int, workers: int) -> None:
    import os

    from formflow.app import create_app
    from formflow.config import Settings

    settings = Settings()
    os.environ.setdefault("FORMFLOW_LOG_FORMAT", "text" if settings.load_demo else "json")
    limit_malloc_arenas()
    if settings.serve_helper:
        from formflow import sidecar

        sidecar.start(settings.argon2_concurrency)

    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # pragma: no cover - non-POSIX systems
        app = create_app()
        _with_worker(app)
        app.run(host=host, port=port)
        return

    class _Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in gunicorn_options(host, port, workers).items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return _with_worker(create_app())

    drop_server_banner()
    _Server().run()


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> int | None:
    """Limit this process (and the workers it forks) to `arenas` glibc malloc arenas; the limit set, or None.

    MALLOC_ARENA_MAX in the environment wins (glibc read it at start); not glibc: nothing."""
    import ctypes
    import os

    if os.environ.get("MALLOC_ARENA_MAX"):
        return None
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return None
    if not mallopt(_M_ARENA_MAX, arenas):
        return None
    os.environ["MALLOC_ARENA_MAX"] = str(arenas)  # for any process started from this one
    return arenas


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


def _with_worker(app: Any) -> Any:
    from formflow.outbox.embedded import start

    start(app.extensions["formflow.services"])
    return app
