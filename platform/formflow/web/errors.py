"""Error pages: every refusal of the web pages is a Chinese page (the API answers in its JSON shape).

Also the faults a request can meet outside the code's control: the database
going away (503) and a full disk (507). The transaction of the request has been
rolled back by then (sessions are context managers), so the page can say
nothing was saved.
"""

from __future__ import annotations

import errno
import logging

from flask import Flask, render_template_string, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from formflow.text.errors import Refusal

LOG = logging.getLogger("formflow.web")

MESSAGES = {
    400: "请求内容有误，请返回上一页检查后重新提交。",
    401: "请先登录。",
    403: "无权访问该页面。",
    404: "页面不存在，或您无权查看。",
    405: "不支持该请求方式。",
    409: "该申请已被他人处理或已变化，请刷新后再操作。",
    413: "提交的内容过大（单次请求不能超过 {mb} MB），请压缩或分开上传。",
    415: "不支持的内容类型。",
    422: "请求内容有误，请检查后重新提交。",
    429: "操作过于频繁，请稍后再试。",
    500: "系统内部错误，请稍后再试。",
    503: "系统暂时无法连接数据库，您刚才的操作没有保存，请稍后重试。",
    507: "服务器存储空间不足，文件没有保存，请稍后重试或联系窗口工作人员。",
}
CSRF_MESSAGE = "页面已过期或安全校验未通过，请刷新页面后重新提交。"
TITLES = {400: "请求有误", 403: "无权访问", 404: "未找到", 413: "内容过大", 503: "暂时无法办理",
          507: "存储空间不足"}

PAGE = """{% extends "base.html" %}{% block title %}{{ title }}{% endblock %}
{% block content %}<section class="error" role="alert"><h1>{{ title }}</h1><p>{{ message }}</p>
<p><a href="{{ url_for('public.home') }}">返回首页</a></p></section>{% endblock %}"""


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _page(status: int, message: str):
    title = TITLES.get(status, "无法完成请求")
    try:
        body = render_template_string(PAGE, title=title, message=message)
    except Exception:  # noqa: BLE001 - the page of last resort may not fail
        body = f"<!doctype html><html lang=zh-CN><meta charset=utf-8><h1>{title}</h1><p>{message}</p></html>"
    return body, status, {"Content-Type": "text/html; charset=utf-8"}


def _json(status: int, message: str):
    from formflow.api.errors import STATUS_CODES, error_response

    code = STATUS_CODES.get(status, "internal" if status >= 500 else "bad_request")
    if status == 503:
        code = "unavailable"
    elif status == 507:
        code = "insufficient_storage"
    return error_response(status, code, message)


def http_error(exc: HTTPException):
    status = exc.code or 500
    if _is_api():
        from formflow.api.errors import from_http_exception

        return from_http_exception(exc)
    if status < 400 or exc.code is None:
        return exc
    if isinstance(exc, CSRFError):
        return _page(400, CSRF_MESSAGE)
    limit = (request.max_content_length or 0) / (1024 * 1024)
    message = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400]).format(mb=f"{limit:.0f}")
    return _page(status, message)


def database_error(exc: DBAPIError):
    LOG.error("database error in %s %s: %s", request.method, request.path, exc.__class__.__name__)
    if _is_api():
        return _json(503, MESSAGES[503])
    return _page(503, MESSAGES[503])


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
    message = f"{exc}。您刚才的操作没有保存。"
    if _is_api():
        return _json(status, message)
    return _page(status, message)


def refusal(exc: Refusal):
    """A refusal nobody caught: the same code and message on both channels (JSON for the API)."""
    if _is_api():
        from formflow.api.errors import from_refusal

        return from_refusal(exc)
    return _page(exc.status, exc.message)


def install(app: Flask) -> None:
    from formflow.files.storage import StorageError

    app.register_error_handler(Refusal, refusal)

    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(DBAPIError, database_error)
    app.register_error_handler(StorageError, storage_error)
    app.register_error_handler(OSError, os_error)
