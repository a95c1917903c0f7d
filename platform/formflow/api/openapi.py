"""The OpenAPI 3.1 document, generated from the route registry and the marshmallow schemas (apispec)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from formflow.api import schemas as s
from formflow.api.errors import MESSAGES
from formflow.api.idempotency import HEADER
from formflow.api.routing import OPERATIONS, PREFIX, Operation

ERROR_TITLES = {
    400: "请求格式不正确（无效的 JSON、嵌套过深、参数不正确）",
    401: "缺少、无效或过期的访问令牌；或账号密码错误",
    403: "需要先完成某项前置步骤（实名核验、隐私授权）",
    404: "资源不存在或不在您的办理范围内",
    409: "与资源当前状态冲突（版本过期、已提交、不可执行）",
    413: "请求内容过大",
    415: "请求内容类型不受支持",
    422: "请求内容有误（fields 指出位置）",
    429: "请求过于频繁（登录限流）",
}
SUCCESS_TITLES = {200: "成功", 201: "已创建", 204: "已完成（无内容）"}
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
    statuses |= set(op.errors)
    return sorted(statuses)


def _response(kind: Any, status: int) -> dict[str, Any]:
    description = SUCCESS_TITLES.get(status, "成功")
    if kind is None:
        return {"description": description}
    if kind == "pdf":
        return {"description": "PDF 文书", "content": {"application/pdf": {"schema": {"type": "string",
                                                                                     "format": "binary"}}}}
    if kind == "file":
        binary = {"schema": {"type": "string", "format": "binary"}}
        return {"description": "文件内容（按内容判断的类型）",
                "content": {t: binary for t in ("image/jpeg", "image/png", "application/pdf",
                                                "application/octet-stream")}}
    return {"description": description, "content": {"application/json": {"schema": kind}}}


def _operation(op: Operation) -> dict[str, Any]:
    _, params = _path(op.rule)
    out: dict[str, Any] = {
        "operationId": op.endpoint, "summary": op.summary, "tags": op.tags, "parameters": params,
        "responses": {},
    }
    if op.description:
        out["description"] = op.description
    if op.query is not None:
        out["parameters"].append({"in": "query", "schema": op.query})
    if op.idempotent:
        out["parameters"].append({
            "in": "header", "name": HEADER, "required": False,
            "description": "幂等键：重试时使用同一个键，不会重复执行（同键不同内容 422）",
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
                          "description": "文件列表在表单数据中的位置（点分路径，如 materials.id_card）"},
                "version": {"type": "integer", "description": "草稿的当前版本"},
                "replace": {"type": "boolean", "description": "替换该处原有文件"},
                "file": {"type": "string", "format": "binary", "description": "JPEG、PNG 或 PDF"},
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


@cache
def document() -> dict[str, Any]:
    """The whole OpenAPI document (built once: the API's shape is fixed by code)."""
    spec = APISpec(
        title="formflow 接口", version="1.0.0", openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": (
            "政务表单与审批平台的 JSON 接口，供小程序与政务系统使用。\n\n"
            "认证：`POST /api/v1/tokens` 以账号密码换取访问令牌（15 分钟）和刷新令牌（轮换使用、可撤销），"
            "之后每个请求带 `Authorization: Bearer <访问令牌>`。接口不使用 Cookie。\n\n"
            "错误：一律为 `{\"error\": {\"code\", \"message\", \"fields\": [{\"pointer\", \"message\"}]}}`。\n\n"
            "表单：以配置包的 JSON Schema 原文提供（申请固定的版本），客户端据此渲染与门户相同的表单。"
        )},
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "description": "POST /api/v1/tokens 签发的访问令牌"})
    spec.components.schema("Error", schema=s.ErrorSchema)
    for status, title in ERROR_TITLES.items():
        spec.components.response(f"Error{status}", {
            "description": title, "content": {"application/json": {"schema": "Error"}},
        })
    grouped: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        if not op.document:
            continue
        path, _ = _path(op.rule)
        grouped.setdefault(path, {})[op.method] = _operation(op)
    for path, operations in grouped.items():
        spec.path(path=path, operations=operations)
    doc = spec.to_dict()
    doc.setdefault("components", {})
    doc["x-error-codes"] = dict(MESSAGES)
    return doc
