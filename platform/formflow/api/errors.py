"""One error shape everywhere, and request bodies read without ever failing with a 500.

    {"error": {"code": "invalid", "message": "…", "fields": [{"pointer": "/x", "message": "…"}]}}

Messages are in the reader's language (`MESSAGES` holds the API's msgids, looked
up in the catalogue when shown); `code` is a stable English word a client can
branch on, the same in every language.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from flask import Response, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from formflow.text.catalogue import _, lazy
from formflow.text.errors import Refusal

#: Largest JSON body accepted (a whole draft's data fits easily).
JSON_LIMIT = 512 * 1024
#: Deepest nesting of arrays/objects accepted in a JSON body.
DEPTH_LIMIT = 32

MESSAGES = {
    "bad_request": lazy("The request is not well-formed"),
    "malformed_json": lazy("The request body is not valid JSON"),
    "too_deep": lazy("The request body is nested too deeply (at most %(n)s levels)", n=DEPTH_LIMIT),
    "not_object": lazy("The request body should be a JSON object"),
    "unauthorized": lazy("Please sign in first (the access token is missing or invalid)"),
    "token_expired": lazy("The access token has expired; use the refresh token to get a new one"),
    "invalid_credentials": lazy("Wrong account or password"),
    "invalid_refresh_token": lazy("The refresh token is invalid, used or revoked; please sign in again"),
    "forbidden": lazy("You may not do this"),
    "not_found": lazy("The resource does not exist or is outside your reach"),
    "method_not_allowed": lazy("This request method is not supported"),
    "conflict": lazy("The request conflicts with the resource's current state"),
    "too_large": lazy("The request body is too large"),
    "unsupported_media_type": lazy("The request's content type is not supported (use application/json)"),
    "invalid": lazy("The request has problems; please check the fields marked"),
    "throttled": lazy("Too many requests; please try again later"),
    "internal": lazy("Internal server error; please try again later"),
    "idempotency_mismatch": lazy("The same idempotency key was used for a different request"),
    "idempotency_key": lazy("Idempotency-Key should be 1–200 visible characters"),
    # sign-in by an identity service or an SMS code (POST /tokens with grant_type authorization_code, id_token, sms)
    "unknown_provider": lazy("The identity provider is unknown or does not sign in on the API"),
    "invalid_code": lazy("The identity service did not accept the authorisation code (it is wrong, already used "
                         "or expired); please sign in again"),
    "invalid_id_token": lazy("The id_token is malformed"),
    "id_token_signature": lazy("The signature of the id_token is not valid: it was not issued by the identity "
                               "service"),
    "id_token_expired": lazy("The id_token has expired; please sign in again"),
    "id_token_claims": lazy("The id_token was not issued for this service (its iss, aud or nonce does not match)"),
    "identity_failed": lazy("The identity could not be verified"),
    "identity_mismatch": lazy("The verified identity differs from the one bound to this account"),
    "identity_taken": lazy("This identity is bound to another account; please sign in with that account"),
    "provider_unavailable": lazy("The identity service cannot be reached; please try again later"),
    "invalid_sms_code": lazy("The code is wrong or has expired"),
    "password_required": lazy("Staff accounts sign in with their password and an identity or SMS code together"),
}

STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "throttled",
    500: "internal",
}

#: marshmallow's English messages → the reader's words (any other marshmallow message: "Invalid format").
_MARSHMALLOW = [
    (re.compile(r"^Missing data for required field\.$"), lambda m: _("Required")),
    (re.compile(r"^Unknown field\.$"), lambda m: _("Field not allowed")),
    (re.compile(r"^Field may not be null\.$"), lambda m: _("May not be empty")),
    (re.compile(r"^Not a valid integer\.$"), lambda m: _("Should be a whole number")),
    (re.compile(r"^Not a valid number\.$"), lambda m: _("Should be a number")),
    (re.compile(r"^Not a valid string\.$"), lambda m: _("Should be text")),
    (re.compile(r"^Not a valid boolean\.$"), lambda m: _("Should be true or false")),
    (re.compile(r"^Not a valid list\.$"), lambda m: _("Should be a list")),
    (re.compile(r"^Not a valid mapping type\.$"), lambda m: _("Should be an object")),
    (re.compile(r"^Invalid input type\.$"), lambda m: _("Wrong type")),
    (re.compile(r"^Invalid value\.$"), lambda m: _("Wrong value")),
    (re.compile(r"^Must be one of: (.*)\.$"), lambda m: _("Should be one of: %(choices)s", choices=m.group(1))),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), lambda m: _("At least %(n)s characters", n=m.group(1))),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), lambda m: _("At most %(n)s characters", n=m.group(1))),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"),
     lambda m: _("Length should be between %(min)s and %(max)s", min=m.group(1), max=m.group(2))),
    (re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
     lambda m: _("Should be between %(min)s and %(max)s", min=m.group(1), max=m.group(2))),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"),
     lambda m: _("Should be at least %(min)s", min=m.group(1))),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"),
     lambda m: _("Should be at most %(max)s", max=m.group(1))),
    (re.compile(r"^String does not match expected pattern\.$"), lambda m: _("Invalid format")),
]


@cache
def _marshmallow_says() -> re.Pattern:
    """Every message marshmallow itself can give (its fields', validators' and schemas' defaults).

    A message that is none of these was written by our own validators, through the catalogue,
    and is shown as it is.
    """
    import inspect

    from marshmallow import fields, validate

    texts: set[str] = set(getattr(Schema, "_default_error_messages", {}).values())
    pending: list[type[fields.Field[Any]]] = [fields.Field]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        texts.update(v for v in getattr(cls, "default_error_messages", {}).values() if isinstance(v, str))
    for cls in vars(validate).values():
        if inspect.isclass(cls) and issubclass(cls, validate.Validator):
            texts.update(getattr(cls, name) for name in dir(cls)
                         if name.startswith(("message", "default_message", "error"))
                         and isinstance(getattr(cls, name), str))
    placeholder = re.compile(r"\{+[^{}]*\}+")
    shapes = ["".join(re.escape(part) if i % 2 == 0 else ".+"
                      for i, part in enumerate(_split_keep(placeholder, text))) for text in texts]
    return re.compile("^(?:" + "|".join(sorted(shapes)) + ")$", re.DOTALL)


def _split_keep(pattern: re.Pattern, text: str) -> list[str]:
    """`text` cut at each match of `pattern`: literal, placeholder, literal, …"""
    out, last = [], 0
    for found in pattern.finditer(text):
        out += [text[last:found.start()], found.group()]
        last = found.end()
    return [*out, text[last:]]


class ApiError(Exception):
    """A refusal the API answers with its one error shape."""

    def __init__(self, status: int, code: str | None = None, message: str | None = None, *,
                 fields: Iterable[tuple[str, str]] = (), extra: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.code = code or STATUS_CODES.get(status, "error")
        self.message = str(message or MESSAGES.get(self.code) or MESSAGES[STATUS_CODES.get(status, "bad_request")])
        self.fields = [{"pointer": p, "message": m} for p, m in fields]
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})
        super().__init__(f"{status} {self.code}: {self.message}")


def error_response(status: int, code: str, message: str, fields: list[dict[str, str]] | None = None,
                   extra: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> Response:
    body = {"error": {"code": code, "message": message, "fields": fields or [], **(extra or {})}}
    response = Response(json.dumps(body, ensure_ascii=False, default=str), status=status,
                        mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def from_refusal(exc: Refusal) -> Response:
    """A use case's refusal: its status, code, message, fields and details, as every channel sees them."""
    extra: dict[str, Any] = {}
    details = dict(exc.details)
    current = details.pop("current", None)
    if current is not None and hasattr(current, "stage_titles"):
        extra["current"] = {"application_id": current.application_id, "version": current.version,
                            "status": current.status, "result": current.result,
                            "stages": [{"id": sid, "title": title}
                                       for sid, title in zip(current.stages, current.stage_titles, strict=False)]}
    if details:
        extra["details"] = {k: (v.as_dict() if hasattr(v, "as_dict") else v) for k, v in details.items()}
    response = error_response(exc.status, exc.code, exc.message, [f.as_dict() for f in exc.fields], extra)
    if exc.details.get("retry_after"):  # e.g. a notice being generated: ask again after that many seconds
        response.headers["Retry-After"] = str(exc.details["retry_after"])
    return response


def from_api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.fields, exc.extra, exc.headers)


def from_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    code = STATUS_CODES.get(status, "bad_request" if status < 500 else "internal")
    headers = {}
    if status == 405:
        allow = [h for k, h in exc.get_headers() if k.lower() == "allow"]
        if allow:
            headers["Allow"] = allow[0]
    return error_response(status, code, str(MESSAGES.get(code, MESSAGES["bad_request"])), headers=headers)


def translate(message: str) -> str:
    for pattern, make in _MARSHMALLOW:
        found = pattern.match(message)
        if found:
            return make(found)
    if _marshmallow_says().match(message):
        return _("Invalid format")
    return message


def pointer_of(parts: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def validation_fields(messages: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[str, str]]:
    """marshmallow's nested message dict → (JSON pointer, message in the reader's words) pairs."""
    out: list[tuple[str, str]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            where = prefix if key == "_schema" else (*prefix, key)
            out.extend(validation_fields(value, where))
    elif isinstance(messages, list):
        for value in messages:
            if isinstance(value, (Mapping, list)):
                out.extend(validation_fields(value, prefix))
            else:
                out.append((pointer_of(prefix), translate(str(value))))
    else:
        out.append((pointer_of(prefix), translate(str(messages))))
    return out


# --------------------------------------------------------------------------- reading bodies


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in node)
    return deepest


def _raw_depth(raw: bytes) -> int:
    """Bracket depth of raw JSON text (outside strings): refuses a deep body before parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def read_json(*, required: bool = True) -> Any:
    """The request's JSON body, bounded in size and depth; ApiError (4xx) for anything wrong."""
    length = request.content_length
    if length is not None and length > JSON_LIMIT:
        raise ApiError(413)
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise ApiError(413) from None
    if len(raw) > JSON_LIMIT:
        raise ApiError(413)
    if not raw.strip():
        if required:
            raise ApiError(400, "malformed_json", _("The request body is empty; it should be a JSON object"))
        return {}
    mimetype = (request.mimetype or "").lower()
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError(415)
    if _raw_depth(raw) > DEPTH_LIMIT:
        raise ApiError(400, "too_deep")
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "malformed_json") from None
    if _depth(value) > DEPTH_LIMIT:
        raise ApiError(400, "too_deep")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_body(schema: Schema, *, required: bool = True) -> dict[str, Any]:
    """Read and validate the JSON body with a marshmallow schema (422 with pointers when it does not fit)."""
    value = read_json(required=required)
    if not isinstance(value, dict):
        raise ApiError(400, "not_object")
    return load_with(schema, value)


def load_with(schema: Schema, value: Any, prefix: tuple[Any, ...] = ()) -> dict[str, Any]:
    try:
        return schema.load(value)
    except ValidationError as exc:
        raise ApiError(422, fields=validation_fields(exc.messages, prefix)) from None


def load_query(schema: Schema) -> dict[str, Any]:
    """Validate query parameters (single values) with a marshmallow schema."""
    args = {k: v for k, v in request.args.items()}
    try:
        return schema.load(args)
    except ValidationError as exc:
        raise ApiError(422, fields=validation_fields(exc.messages)) from None
