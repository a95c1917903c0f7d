"""Error pages: every refusal of the web pages is a page in the reader's language (the API answers in its JSON shape).

Also the faults a request can meet outside the code's control: the database
going away (503) and a full disk (507). A value the database refuses (`DataError`)
is the request's fault (400), a unique-key clash (`IntegrityError`) a conflict
(409): neither is ever shown as an outage. A NUL byte anywhere in a request
(query, form field, JSON body) is refused at the boundary with 400 before any
view runs (PostgreSQL cannot store one in text). The transaction of the request has been
rolled back by then (sessions are context managers), so the page can say
nothing was saved.
"""

from __future__ import annotations

import errno
import logging

from babel.support import LazyProxy
from flask import Flask, render_template_string, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, PendingRollbackError
from werkzeug.exceptions import HTTPException

from formflow.text.catalogue import _, current_locale, lazy
from formflow.text.errors import Refusal

LOG = logging.getLogger("formflow.web")

MESSAGES = {
    400: lazy("The request has a problem; please go back, check and send it again."),
    401: lazy("Please sign in first."),
    403: lazy("You may not open this page."),
    404: lazy("The page does not exist, or you may not see it."),
    405: lazy("This kind of request is not supported."),
    409: lazy("The application has been handled by someone else or has changed; please refresh and try again."),
    415: lazy("This content type is not supported."),
    422: lazy("The request has a problem; please check it and send it again."),
    429: lazy("Too many requests; please try again later."),
    500: lazy("Internal error; please try again later."),
    503: lazy("The database cannot be reached; nothing you just did was saved. Please try again later."),
    507: lazy("The server's storage is full; the file was not saved. Please try again later or ask the window "
              "clerk."),
}
CSRF_MESSAGE = lazy("The page has expired or failed its security check; please refresh it and send it again.")
TITLES = {400: lazy("Bad request"), 403: lazy("Not allowed"), 404: lazy("Not found"), 413: lazy("Too large"),
          503: lazy("Cannot be handled now"), 507: lazy("Storage full")}

PAGE = """{% extends "base.html" %}{% block title %}{{ title }}{% endblock %}
{% block content %}<section class="error" role="alert"><h1>{{ title }}</h1><p>{{ message }}</p>
<p><a href="{{ url_for('public.home') }}">{{ _('Back to the home page') }}</a></p></section>{% endblock %}"""


def _too_large() -> str:
    limit = (request.max_content_length or 0) / (1024 * 1024)
    return _("The content sent is too large (at most %(mb)s MB per request); please compress it or upload it in "
             "parts.", mb=f"{limit:.0f}")


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _page(status: int, message: str | LazyProxy):
    title = str(TITLES.get(status) or _("The request cannot be completed"))
    message = str(message)
    try:
        body = render_template_string(PAGE, title=title, message=message)
    except Exception:  # noqa: BLE001 - the page of last resort may not fail
        lang = "en" if current_locale() == "en" else "zh-CN"
        body = f"<!doctype html><html lang={lang}><meta charset=utf-8><h1>{title}</h1><p>{message}</p></html>"
    return body, status, {"Content-Type": "text/html; charset=utf-8"}


def _json(status: int, message: str | LazyProxy):
    from formflow.api.errors import STATUS_CODES, error_response

    code = STATUS_CODES.get(status, "internal" if status >= 500 else "bad_request")
    if status == 503:
        code = "unavailable"
    elif status == 507:
        code = "insufficient_storage"
    return error_response(status, code, str(message))


def http_error(exc: HTTPException):
    status = exc.code or 500
    if _is_api():
        from formflow.api.errors import from_http_exception

        return from_http_exception(exc)
    if status < 400 or exc.code is None:
        return exc
    if isinstance(exc, CSRFError):
        return _page(400, CSRF_MESSAGE)
    if status == 413:
        return _page(status, _too_large())
    return _page(status, MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400]))


def database_error(exc: DBAPIError | PendingRollbackError):
    LOG.error("database error in %s %s: %s", request.method, request.path, exc.__class__.__name__)
    if _is_api():
        return _json(503, MESSAGES[503])
    return _page(503, MESSAGES[503])


NUL_MESSAGE = lazy("The request contains a NUL character, which is not allowed; please remove it and "
                   "send it again.")


def _has_nul(text: str) -> bool:
    return "\x00" in text


def refuse_nul():
    """`before_request`: 400 for a NUL byte in the path, a query or form key or value, or a JSON body."""
    if _has_nul(request.path) or any(_has_nul(k) or _has_nul(v) for k, v in request.args.items(multi=True)):
        return _refuse_nul()
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if any(_has_nul(k) or _has_nul(v) for k, v in request.form.items(multi=True)):
            return _refuse_nul()
    elif request.is_json and (request.content_length or 0) <= 4 * 1024 * 1024:
        raw = request.get_data(cache=True)
        if b"\x00" in raw or b"\\u0000" in raw:
            return _refuse_nul()
    return None


def _refuse_nul():
    if _is_api():
        from formflow.api.errors import error_response

        return error_response(400, "nul_character", str(NUL_MESSAGE))
    return _page(400, NUL_MESSAGE)


def data_error(exc: DataError):
    """A value the database will not take (too long, out of range, bad encoding): the request's fault."""
    LOG.warning("database refused a value in %s %s: %s", request.method, request.path, exc.__class__.__name__)
    if _is_api():
        return _json(400, MESSAGES[400])
    return _page(400, MESSAGES[400])


def integrity_error(exc: IntegrityError):
    """A unique or foreign key clash nobody caught: someone else changed it first."""
    LOG.warning("integrity conflict in %s %s: %s", request.method, request.path, exc.__class__.__name__)
    if _is_api():
        return _json(409, MESSAGES[409])
    return _page(409, MESSAGES[409])


def os_error(exc: OSError):
    if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
        raise exc
    LOG.error("storage full in %s %s", request.method, request.path)
    if _is_api():
        return _json(507, MESSAGES[507])
    return _page(507, MESSAGES[507])


def storage_error(exc: Exception):
    from formflow.files.storage import StorageFull

    status = 507 if isinstance(exc, StorageFull) else 503
    LOG.error("storage error in %s %s: %s", request.method, request.path, exc)
    message = _("%(problem)s. Nothing you just did was saved.", problem=exc)
    if _is_api():
        return _json(status, message)
    return _page(status, message)


def refusal(exc: Refusal):
    """A refusal nobody caught: the same code and message on both channels (JSON for the API)."""
    if _is_api():
        from formflow.api.errors import from_refusal

        return from_refusal(exc)
    body, status, headers = _page(exc.status, exc.message)
    if exc.details.get("retry_after"):  # e.g. a notice being generated
        headers["Retry-After"] = str(exc.details["retry_after"])
    return body, status, headers


def install(app: Flask) -> None:
    from formflow.files.storage import StorageError

    app.register_error_handler(Refusal, refusal)

    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(DBAPIError, database_error)
    # the connection died earlier in this transaction and some code went on with it: the same 503
    app.register_error_handler(PendingRollbackError, database_error)
    app.register_error_handler(DataError, data_error)
    app.register_error_handler(IntegrityError, integrity_error)
    app.before_request(refuse_nul)
    app.register_error_handler(StorageError, storage_error)
    app.register_error_handler(OSError, os_error)
