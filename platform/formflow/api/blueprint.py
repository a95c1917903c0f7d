"""Wiring of the API blueprint: error handlers, no cookies, no CSRF, no caching of personal data."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.exc import DBAPIError, PendingRollbackError
from werkzeug.exceptions import HTTPException

from formflow.api import (  # noqa: F401
    views_auth,
    views_citizen,
    views_matters,
    views_messages,  # noqa: F401
    views_meta,
    views_review,
)
from formflow.api.errors import (
    MESSAGES,
    ApiError,
    error_response,
    from_api_error,
    from_http_exception,
    from_refusal,
)
from formflow.api.routing import PREFIX, bp
from formflow.files.storage import StorageError
from formflow.text.errors import Refusal

__all__ = ["bp", "init_app"]


def _is_api() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


class _NoApiCookies(SecureCookieSessionInterface):
    """The web's signed-cookie sessions, except that API responses never set a cookie."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def open_session(self, app, req):
        return self.inner.open_session(app, req)

    def save_session(self, app, session, response) -> None:
        if _is_api():
            return None
        return self.inner.save_session(app, session, response)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return from_api_error(exc)


@bp.errorhandler(Refusal)
def _refusal(exc: Refusal):
    return from_refusal(exc)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return from_http_exception(exc)


@bp.errorhandler(DBAPIError)
@bp.errorhandler(PendingRollbackError)  # the connection died earlier in the transaction: the same 503
def _database_gone(exc: DBAPIError | PendingRollbackError):
    from formflow.web.errors import database_error

    return database_error(exc)


@bp.errorhandler(StorageError)
def _storage_failed(exc: StorageError):
    from formflow.web.errors import storage_error

    return storage_error(exc)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    import logging

    logging.getLogger("formflow.api").exception("unhandled error in %s %s", request.method, request.path)
    return error_response(500, "internal", str(MESSAGES["internal"]))


@bp.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.pop("Set-Cookie", None)
    return response


def _routing_errors():
    """Unknown URLs and methods under /api/ answer in the API's error shape (before any other hook)."""
    if _is_api() and request.routing_exception is not None:
        exc = request.routing_exception
        if isinstance(exc, HTTPException) and not getattr(exc, "new_url", None):
            response = from_http_exception(exc)
            response.headers["Cache-Control"] = "no-store"
            return response
    return None


def init_app(app: Flask) -> None:
    from formflow.web.auth import csrf

    csrf.exempt(bp)
    if not isinstance(app.session_interface, _NoApiCookies):
        app.session_interface = _NoApiCookies(app.session_interface)
    app.before_request_funcs.setdefault(None, []).insert(0, _routing_errors)
