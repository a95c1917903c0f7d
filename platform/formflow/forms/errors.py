"""jsonschema errors → (JSON pointer, Chinese message) a person understands.

Used both for citizens' form data and for configurators' pack files. A missing
required property is reported at the property itself (`/members/spouse`), not
at its parent object, so a form can show the message next to the field.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from jsonschema.exceptions import ValidationError, best_match

TYPE_NAMES = {
    "string": "文本",
    "number": "数字",
    "integer": "整数",
    "boolean": "是/否",
    "object": "对象",
    "array": "列表",
    "null": "空值",
}


@dataclass(frozen=True)
class FieldError:
    """One problem at one place of a document."""

    pointer: str
    message: str

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(p for p in self.pointer.split("/")[1:] if p != "")


def pointer(parts: Iterable[object]) -> str:
    """RFC 6901 pointer of a path."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _title(error: ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    return str(schema.get("title") or "")


def _format_message(error: ValidationError, messages: dict[str, str] | None) -> str:
    fmt = str(error.validator_value)
    if messages and fmt in messages:
        explain = messages[fmt]
        return explain(error.instance) if callable(explain) else explain
    return f"格式不正确（应为 {fmt}）：{error.instance!r}"


def _missing_property(error: ValidationError) -> str:
    """jsonschema yields one `required` error per missing name; its message names it."""
    head = error.message.rsplit(" is a required property", 1)[0]
    try:
        name = ast.literal_eval(head)
    except (ValueError, SyntaxError):
        name = None
    if isinstance(name, str):
        return name
    present = error.instance if isinstance(error.instance, dict) else {}
    return next((n for n in error.validator_value if n not in present), str(error.validator_value))


def translate(error: ValidationError, format_messages: dict | None = None) -> FieldError:
    """One jsonschema error → a FieldError with a Chinese message."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        return translate(best_match(error.context), format_messages)
    path = list(error.absolute_path)
    kind = error.validator
    value = error.validator_value
    title = _title(error)
    if kind == "required":
        missing = _missing_property(error)
        props = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        label = props.get(missing, {}).get("title") if isinstance(props.get(missing), dict) else None
        return FieldError(pointer([*path, missing]), f"{label or missing}：必填")
    if kind == "dependentRequired":
        for trigger, needed in value.items():
            if trigger in error.instance:
                for name in needed:
                    if name not in error.instance:
                        return FieldError(pointer([*path, name]), f"{name}：必填（因已填写 {trigger}）")
    if kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return FieldError(pointer(path), f"不允许的键：{', '.join(map(str, extra)) or error.message}")
    if kind == "unevaluatedProperties":
        return FieldError(pointer(path), f"不允许的键：{error.message}")
    if kind == "type":
        expected = value if isinstance(value, list) else [value]
        names = "或".join(TYPE_NAMES.get(t, t) for t in expected)
        return FieldError(pointer(path), f"{title or '此项'}应为{names}，实际为 {error.instance!r}")
    if kind == "enum":
        return FieldError(pointer(path), f"{title or '此项'}的值 {error.instance!r} 不在可选范围内")
    if kind == "const":
        return FieldError(pointer(path), f"{title or '此项'}应为 {value!r}")
    if kind == "maxLength":
        return FieldError(pointer(path), f"{title or '此项'}最多 {value} 个字符")
    if kind == "minLength":
        msg = "必填" if value == 1 else f"至少 {value} 个字符"
        return FieldError(pointer(path), f"{title or '此项'}{msg}")
    if kind == "maxItems":
        return FieldError(pointer(path), f"{title or '此项'}最多 {value} 项")
    if kind == "minItems":
        return FieldError(pointer(path), f"{title or '此项'}至少 {value} 项")
    if kind == "minimum":
        return FieldError(pointer(path), f"{title or '此项'}不能小于 {value}")
    if kind == "exclusiveMinimum":
        return FieldError(pointer(path), f"{title or '此项'}应大于 {value}")
    if kind == "maximum":
        return FieldError(pointer(path), f"{title or '此项'}不能大于 {value}")
    if kind == "pattern":
        return FieldError(pointer(path), f"{title or '此项'}格式不正确：{error.instance!r}")
    if kind == "format":
        return FieldError(pointer(path), f"{title + '：' if title else ''}{_format_message(error, format_messages)}")
    if kind == "contains":
        return FieldError(pointer(path), f"{title or '此项'}缺少必需的一项")
    if kind == "false":
        return FieldError(pointer(path), "此处不允许出现该项")
    return FieldError(pointer(path), error.message)


def translate_all(errors: Iterable[ValidationError], format_messages: dict | None = None) -> list[FieldError]:
    """Every error, translated, de-duplicated, in document order."""
    seen: dict[tuple[str, str], FieldError] = {}
    for error in errors:
        fe = translate(error, format_messages)
        seen.setdefault((fe.pointer, fe.message), fe)
    return sorted(seen.values(), key=lambda e: e.pointer)
