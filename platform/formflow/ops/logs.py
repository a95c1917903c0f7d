"""Structured logs: one JSON object a line (python-json-logger), each carrying the request id.

A request takes its id from `X-Request-Id` when the proxy sets a sane one
(letters, digits, `-_.`, at most 64) and makes one otherwise; the response
echoes it, and every log line written while the request runs carries it, so a
citizen's complaint ("it failed at 10:02") leads to every line of that request.
JSON is the default in production (`FORMFLOW_DEMO=0`); `FORMFLOW_LOG_FORMAT=text`
or `json` chooses explicitly.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from typing import Any

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

HEADER = "X-Request-Id"
_SANE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_CONFIGURED = "formflow.logs.configured"


def request_id() -> str | None:
    """The current request's id (None outside a request)."""
    if not has_request_context():
        return None
    return getattr(g, "request_id", None)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (and the path) to every record written during a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        record.path = request.path if has_request_context() else None
        return True


def configure(fmt: str) -> None:
    """Install one stderr handler on the root logger in `fmt` (json | text); idempotent."""
    root = logging.getLogger()
    if getattr(root, _CONFIGURED, None) == fmt:
        return
    for handler in [h for h in root.handlers if getattr(h, _CONFIGURED, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, _CONFIGURED, True)
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(path)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        ))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    setattr(root, _CONFIGURED, fmt)


def init_app(app: Flask, fmt: str | None) -> None:
    """Request ids on every request and response; logs configured when `fmt` is given."""
    if fmt:
        configure(fmt)

    @app.before_request
    def _take_request_id() -> None:
        given = request.headers.get(HEADER, "")
        g.request_id = given if _SANE.match(given) else uuid.uuid4().hex

    @app.after_request
    def _echo_request_id(response: Any) -> Any:
        rid = getattr(g, "request_id", None)
        if rid:
            response.headers[HEADER] = rid
        return response
