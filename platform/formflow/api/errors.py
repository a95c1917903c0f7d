"""One error shape everywhere, and request bodies read without ever failing with a 500.

    {"error": {"code": "invalid", "message": "请求内容有误", "fields": [{"pointer": "/x", "message": "必填"}]}}

Messages are Chinese (from `MESSAGES`, the API's message catalogue); `code`
is a stable English word a client can branch on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Response, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from formflow.text.errors import Refusal

#: Largest JSON body accepted (a whole draft's data fits easily).
JSON_LIMIT = 512 * 1024
#: Deepest nesting of arrays/objects accepted in a JSON body.
DEPTH_LIMIT = 32

MESSAGES = {
    "bad_request": "请求格式不正确",
    "malformed_json": "请求内容不是有效的 JSON",
    "too_deep": f"请求内容嵌套层级过深（最多 {DEPTH_LIMIT} 层）",
    "not_object": "请求内容应为 JSON 对象",
    "unauthorized": "请先登录（缺少或无效的访问令牌）",
    "token_expired": "访问令牌已过期，请使用刷新令牌换取新的访问令牌",
    "invalid_credentials": "账号或密码错误",
    "invalid_refresh_token": "刷新令牌无效、已使用或已撤销，请重新登录",
    "forbidden": "无权执行此操作",
    "not_found": "资源不存在或不在您的办理范围内",
    "method_not_allowed": "不支持此请求方法",
    "conflict": "请求与资源当前状态冲突",
    "too_large": "请求内容过大",
    "unsupported_media_type": "请求内容类型不受支持（应为 application/json）",
    "invalid": "请求内容有误，请检查标出的字段",
    "throttled": "请求过于频繁，请稍后再试",
    "internal": "服务器内部错误，请稍后再试",
    "idempotency_mismatch": "同一幂等键已用于内容不同的请求",
    "idempotency_key": "Idempotency-Key 应为 1–200 个可见字符",
}

STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "throttled",
    500: "internal",
}

#: marshmallow's English messages → Chinese (anything else: "格式不正确").
_MARSHMALLOW = [
    (re.compile(r"^Missing data for required field\.$"), lambda m: "必填"),
    (re.compile(r"^Unknown field\.$"), lambda m: "不允许的字段"),
    (re.compile(r"^Field may not be null\.$"), lambda m: "不能为空"),
    (re.compile(r"^Not a valid integer\.$"), lambda m: "应为整数"),
    (re.compile(r"^Not a valid number\.$"), lambda m: "应为数字"),
    (re.compile(r"^Not a valid string\.$"), lambda m: "应为文本"),
    (re.compile(r"^Not a valid boolean\.$"), lambda m: "应为 true 或 false"),
    (re.compile(r"^Not a valid list\.$"), lambda m: "应为列表"),
    (re.compile(r"^Not a valid mapping type\.$"), lambda m: "应为对象"),
    (re.compile(r"^Invalid input type\.$"), lambda m: "类型不正确"),
    (re.compile(r"^Invalid value\.$"), lambda m: "取值不正确"),
    (re.compile(r"^Must be one of: (.*)\.$"), lambda m: f"应为以下之一：{m.group(1)}"),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), lambda m: f"至少 {m.group(1)} 个字符"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), lambda m: f"最多 {m.group(1)} 个字符"),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), lambda m: f"长度应在 {m.group(1)}–{m.group(2)} 之间"),
    (re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
     lambda m: f"应在 {m.group(1)}–{m.group(2)} 之间"),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), lambda m: f"应不小于 {m.group(1)}"),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"), lambda m: f"应不大于 {m.group(1)}"),
    (re.compile(r"^String does not match expected pattern\.$"), lambda m: "格式不正确"),
]


class ApiError(Exception):
    """A refusal the API answers with its one error shape."""

    def __init__(self, status: int, code: str | None = None, message: str | None = None, *,
                 fields: Iterable[tuple[str, str]] = (), extra: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.code = code or STATUS_CODES.get(status, "error")
        self.message = message or MESSAGES.get(self.code) or MESSAGES[STATUS_CODES.get(status, "bad_request")]
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
    body = exc.as_dict()
    return error_response(exc.status, body.pop("code"), body.pop("message"), body.pop("fields"), body)


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
    return error_response(status, code, MESSAGES.get(code, MESSAGES["bad_request"]), headers=headers)


def translate(message: str) -> str:
    for pattern, make in _MARSHMALLOW:
        found = pattern.match(message)
        if found:
            return make(found)
    if re.search(r"[\u4e00-\u9fff]", message):
        return message
    return "格式不正确"


def pointer_of(parts: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def validation_fields(messages: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[str, str]]:
    """marshmallow's nested message dict → (JSON pointer, Chinese message) pairs."""
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
            raise ApiError(400, "malformed_json", "请求内容为空，应为 JSON 对象")
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
