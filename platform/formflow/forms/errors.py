"""jsonschema errors → (JSON pointer, Chinese message) a person understands.

Used both for citizens' form data and for configurators' pack files. A missing
required property is reported at the property itself (`/members/spouse`), not
at its parent object, so a form can show the message next to the field.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from babel.support import LazyProxy
from jsonschema.exceptions import ValidationError, best_match

from formflow.text.catalogue import _, lazy

TYPE_NAMES = {
    "string": lazy("a text"),
    "number": lazy("a number"),
    "integer": lazy("a whole number"),
    "boolean": lazy("yes or no"),
    "object": lazy("an object"),
    "array": lazy("a list"),
    "null": lazy("nothing (null)"),
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
        if callable(explain) and not isinstance(explain, LazyProxy):  # a catalogue text is callable too
            explain = explain(error.instance)
        return str(explain)
    return _("Wrong format (should be %(format)s): %(value)s", format=fmt, value=repr(error.instance))


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
    subject = title or _("This item")
    if kind == "required":
        missing = _missing_property(error)
        props = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        label = props.get(missing, {}).get("title") if isinstance(props.get(missing), dict) else None
        return FieldError(pointer([*path, missing]), _("%(field)s: required", field=label or missing))
    if kind == "dependentRequired":
        for trigger, needed in value.items():
            if trigger in error.instance:
                for name in needed:
                    if name not in error.instance:
                        return FieldError(pointer([*path, name]), _(
                            "%(field)s: required (because %(trigger)s is filled in)", field=name, trigger=trigger))
    if kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return FieldError(pointer(path), _("Keys not allowed: %(keys)s",
                                           keys=", ".join(map(str, extra)) or error.message))
    if kind == "unevaluatedProperties":
        return FieldError(pointer(path), _("Keys not allowed: %(keys)s", keys=error.message))
    if kind == "type":
        expected = value if isinstance(value, list) else [value]
        names = _(" or ").join(str(TYPE_NAMES.get(t, t)) for t in expected)
        return FieldError(pointer(path), _("%(title)s should be %(types)s, not %(value)s",
                                           title=subject, types=names, value=repr(error.instance)))
    if kind == "enum":
        return FieldError(pointer(path), _("%(title)s: %(value)s is not one of the choices",
                                           title=subject, value=repr(error.instance)))
    if kind == "const":
        return FieldError(pointer(path), _("%(title)s should be %(value)s", title=subject, value=repr(value)))
    if kind == "maxLength":
        return FieldError(pointer(path), _("%(title)s: at most %(n)s characters", title=subject, n=value))
    if kind == "minLength":
        if value == 1:
            return FieldError(pointer(path), _("%(title)s is required", title=subject))
        return FieldError(pointer(path), _("%(title)s: at least %(n)s characters", title=subject, n=value))
    if kind == "maxItems":
        return FieldError(pointer(path), _("%(title)s: at most %(n)s items", title=subject, n=value))
    if kind == "minItems":
        return FieldError(pointer(path), _("%(title)s: at least %(n)s items", title=subject, n=value))
    if kind == "minimum":
        return FieldError(pointer(path), _("%(title)s cannot be less than %(n)s", title=subject, n=value))
    if kind == "exclusiveMinimum":
        return FieldError(pointer(path), _("%(title)s should be more than %(n)s", title=subject, n=value))
    if kind == "maximum":
        return FieldError(pointer(path), _("%(title)s cannot be more than %(n)s", title=subject, n=value))
    if kind == "pattern":
        return FieldError(pointer(path), _("%(title)s has the wrong format: %(value)s", title=subject,
                                           value=repr(error.instance)))
    if kind == "format":
        message = _format_message(error, format_messages)
        if title:
            message = _("%(title)s: %(message)s", title=title, message=message)
        return FieldError(pointer(path), message)
    if kind == "contains":
        return FieldError(pointer(path), _("%(title)s is missing a required item", title=subject))
    if kind == "false":
        return FieldError(pointer(path), _("This item is not allowed here"))
    return FieldError(pointer(path), error.message)


def translate_all(errors: Iterable[ValidationError], format_messages: dict | None = None) -> list[FieldError]:
    """Every error, translated, de-duplicated, in document order."""
    seen: dict[tuple[str, str], FieldError] = {}
    for error in errors:
        fe = translate(error, format_messages)
        seen.setdefault((fe.pointer, fe.message), fe)
    return sorted(seen.values(), key=lambda e: e.pointer)
