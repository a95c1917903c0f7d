"""The OpenAPI 3.1 document, generated from the route registry and the marshmallow schemas (apispec)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from babel.support import LazyProxy

from formflow.api import schemas as s
from formflow.api.errors import MESSAGES
from formflow.api.idempotency import HEADER
from formflow.api.ratelimit import WRITES
from formflow.api.routing import OPERATIONS, PREFIX, Operation
from formflow.text.catalogue import _, current_locale, lazy

ERROR_TITLES = {
    400: lazy("The request is not well-formed (invalid JSON, nested too deeply, wrong parameters)"),
    401: lazy("Missing, invalid or expired access token; or wrong account or password"),
    403: lazy("A step must come first (identity verification, privacy consent)"),
    404: lazy("The resource does not exist or is outside your reach"),
    409: lazy("Conflicts with the resource's current state (stale version, already submitted, not possible)"),
    413: lazy("The request body is too large"),
    415: lazy("The request's content type is not supported"),
    422: lazy("The request has problems (fields points to them)"),
    429: lazy("Too many requests (sign-in throttling, or the account's writes per minute)"),
    503: lazy("The identity service cannot be reached; please try again later"),
}
SUCCESS_TITLES = {200: lazy("Success"), 201: lazy("Created"), 202: lazy("Accepted (being delivered)"),
                  204: lazy("Done (no content)")}
_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)>")
STRING_PARAM = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_.-]+$"}
PARAMS: dict[str, dict[str, Any]] = {
    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
}
ID_PARAM = {"type": "integer", "minimum": 1, "maximum": 2147483647}


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []

    def repl(match: re.Match) -> str:
        name = match.group("name")
        schema = ID_PARAM if match.group("conv") == "int" else PARAMS.get(name, STRING_PARAM)
        params.append({"in": "path", "name": name, "required": True, "schema": dict(schema)})
        return "{" + name + "}"

    return PREFIX + _CONVERTER.sub(repl, rule), params


def _error_statuses(op: Operation) -> list[int]:
    statuses = {400, 404}
    if op.body or op.multipart or op.query:
        statuses.add(422)
    if op.body or op.multipart:
        statuses |= {413, 415}
    if op.auth:
        statuses.add(401)
    if op.auth and op.method.upper() in WRITES:
        statuses.add(429)  # the per-account write limit (api/ratelimit.py)
    statuses |= set(op.errors)
    return sorted(statuses)


def _response(kind: Any, status: int) -> dict[str, Any]:
    description = SUCCESS_TITLES.get(status) or _("Success")
    if kind is None:
        return {"description": description}
    if kind == "pdf":
        return {"description": _("PDF document"), "content": {"application/pdf": {"schema": {"type": "string",
                                                                                     "format": "binary"}}}}
    if kind == "pending":  # a document still being generated after commit
        return {"description": _("The document is still being generated; ask again after Retry-After seconds"),
                "headers": {"Retry-After": {"description": _("Seconds to wait before asking again"),
                                            "schema": {"type": "integer"}}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if kind == "file":
        binary = {"schema": {"type": "string", "format": "binary"}}
        return {"description": _("File content (type judged from the content)"),
                "content": {t: binary for t in ("image/jpeg", "image/png", "application/pdf",
                                                "application/octet-stream")}}
    return {"description": description, "content": {"application/json": {"schema": kind}}}


def _operation(op: Operation) -> dict[str, Any]:
    _rule, params = _path(op.rule)
    out: dict[str, Any] = {
        "operationId": op.endpoint, "summary": str(op.summary), "tags": [str(tag) for tag in op.tags],
        "parameters": params,
        "responses": {},
    }
    if op.description:
        out["description"] = str(op.description)
    if op.query is not None:
        out["parameters"].append({"in": "query", "schema": op.query})
    if op.idempotent:
        out["parameters"].append({
            "in": "header", "name": HEADER, "required": False,
            "description": _("Idempotency key: a retry with the same key is not done twice (the same key with a "
                             "different body: 422)"),
            "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"},
        })
    if op.body is not None:
        out["requestBody"] = {"required": op.body_required,
                              "content": {"application/json": {"schema": op.body}}}
    if op.multipart is not None:
        out["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["field", "version", "file"],
            "properties": {
                "field": {"type": "string", "minLength": 1, "maxLength": 200,
                          "description": _("Where the file list is in the form data (dotted path, e.g. "
                                           "materials.id_card)")},
                "version": {"type": "integer", "description": _("The draft's current version")},
                "replace": {"type": "boolean", "description": _("Replace the files there")},
                "file": {"type": "string", "format": "binary", "description": _("JPEG, PNG or PDF")},
            },
            "additionalProperties": False,
        }}}}
    for status, kind in op.responses.items():
        out["responses"][str(status)] = _response(kind, status)
    for status in _error_statuses(op):
        out["responses"].setdefault(str(status), {"$ref": f"#/components/responses/Error{status}"})
    if op.auth:
        out["security"] = [{"bearer": []}]
    else:
        out["security"] = []
    return out


def document() -> dict[str, Any]:
    """The whole OpenAPI document in the reader's language."""
    return _document(current_locale())


@cache
def _document(locale: str) -> dict[str, Any]:
    """Built once per locale: the API's shape is fixed by code, its words come from the catalogue."""
    spec = APISpec(
        title=_("formflow API"), version="1.0.0", openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": "\n\n".join([
            _("The JSON API of the government form and approval platform, for mini-programs and government "
              "systems."),
            _("Authentication: `POST /api/v1/tokens` exchanges account and password for an access token (15 "
              "minutes) and a refresh token (rotated on use, revocable); every later request carries "
              "`Authorization: Bearer <access token>`. The API uses no cookies."),
            _("Mini-programs and apps may sign in instead with the identity service (`grant_type` "
              "`authorization_code` or `id_token`: the id_token's signature, issuer, audience, expiry and nonce are "
              "checked and the verified name and ID number are bound to the account) or with an SMS code "
              "(`POST /api/v1/tokens/sms-code`, then `grant_type` `sms`)."),
            _("Errors: always `%(shape)s`.",
              shape='{"error": {"code", "message", "fields": [{"pointer", "message"}]}}'),
            _("Forms: given as the pack's own JSON Schema (the version the application pinned); a client renders "
              "from it the same form as the portal."),
        ])},
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "description": _("Access token issued by POST /api/v1/tokens")})
    spec.components.schema("Error", schema=s.ErrorSchema)
    for status, title in ERROR_TITLES.items():
        spec.components.response(f"Error{status}", {
            "description": title, "content": {"application/json": {"schema": "Error"}},
        })
    grouped: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        if not op.document:
            continue
        path, _params = _path(op.rule)
        grouped.setdefault(path, {})[op.method] = _operation(op)
    for path, operations in grouped.items():
        spec.path(path=path, operations=operations)
    doc = spec.to_dict()
    doc.setdefault("components", {})
    doc["x-error-codes"] = dict(MESSAGES)
    return _resolved(doc)


def _resolved(value: Any) -> Any:
    """The document with every lazy text looked up (JSON has no place for a proxy)."""
    if isinstance(value, LazyProxy):
        return str(value)
    if isinstance(value, dict):
        return {key: _resolved(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_resolved(item) for item in value]
    return value
