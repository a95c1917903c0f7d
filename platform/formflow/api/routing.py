"""The API blueprint and its operation registry: each route also describes itself for OpenAPI."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)

#: Path parameters that are ids; one above PostgreSQL's integer range is simply not found.
ID = "int"
MAX_ID = 2147483647


@bp.url_value_preprocessor
def _ids_in_range(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    from formflow.api.errors import ApiError

    for value in (values or {}).values():
        if isinstance(value, int) and not 1 <= value <= MAX_ID:
            raise ApiError(404)


@dataclass
class Operation:
    rule: str
    method: str
    endpoint: str
    #: Texts a person reads: msgids through `lazy()`, looked up when the document is built.
    summary: Any
    tags: list[Any]
    description: Any = ""
    auth: bool = True
    body: type | None = None
    body_required: bool = True
    multipart: type | None = None
    query: type | None = None
    responses: dict[int, Any] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    idempotent: bool = False
    document: bool = True


OPERATIONS: list[Operation] = []


def _limited(view: Callable) -> Callable:
    """`view` behind the per-account write limit (formflow.api.ratelimit)."""
    import functools

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        from formflow.api.ratelimit import check_write

        check_write()
        return view(*args, **kwargs)

    return wrapped


def route(rule: str, method: str, *, summary: Any, tags: list[Any], responses: dict[int, Any],
          description: Any = "", auth: bool = True, body: type | None = None, body_required: bool = True,
          multipart: type | None = None, query: type | None = None, errors: tuple[int, ...] = (),
          idempotent: bool = False, document: bool = True) -> Callable[[Callable], Callable]:
    """Register a view on the API blueprint and record how the OpenAPI document describes it.

    `responses`: status → marshmallow schema class, `"pdf"`, `"file"`, or None (no body).
    `errors`: further error statuses this operation may answer (the common ones are added).
    """

    def decorate(view: Callable) -> Callable:
        module = sys.modules.get(view.__module__)
        area = getattr(module, "API_AREA", None) or view.__module__.rsplit(".", 1)[-1].removeprefix("views_")
        endpoint = f"{area}_{view.__name__}"
        bp.add_url_rule(rule, endpoint=endpoint, view_func=_limited(view) if auth else view, methods=[method])
        OPERATIONS.append(Operation(
            rule=rule, method=method.lower(), endpoint=endpoint, summary=summary, tags=tags,
            description=description or inspect.cleandoc(view.__doc__ or ""), auth=auth, body=body,
            body_required=body_required, multipart=multipart, query=query, responses=responses,
            errors=errors, idempotent=idempotent, document=document,
        ))
        return view

    return decorate
