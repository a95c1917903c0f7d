"""jsonschema-rs decides valid or invalid; the Python `jsonschema` path words the errors.

`FastCheck` holds one compiled jsonschema-rs validator of a schema and its referenced documents.
The formats stay the platform's own: every `format` keyword is handed to rs as a custom keyword that
calls the very `FormatChecker` the Python path uses (jsonschema-rs checks formats only on strings and
with its own rules, while `money`/`area` also constrain numbers), so both paths agree on every
document. Where `formats.NATIVE_FORMATS` has a schema that only conforming values pass (a pattern, a
non-negative integer), rs tries it first and calls back only for the values it does not let through.
`tests/forms/test_compiled_forms.py` and `tests/perf_behaviour/test_hA_fast_validation.py` compare
both paths on corpora of documents.
When rs cannot compile a schema (a regex it does not support, say) the check is simply absent and the
Python path decides alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jsonschema_rs
from jsonschema import FormatChecker

#: The keyword every `format` becomes in the documents handed to jsonschema-rs.
FORMAT_KEYWORD = "x-formflow-format"


def _with_format_keyword(node: Any, native: Mapping[str, Any] | None = None) -> Any:
    """A copy of a schema document where every `format` (a string at a schema's place) is FORMAT_KEYWORD.

    With `native` (format -> a schema only conforming values pass, `formats.NATIVE_FORMATS`), a format
    found there becomes `anyOf: [that schema, FORMAT_KEYWORD]` (added to the place's `allOf`): the same
    verdict, and rs calls back into Python only for the values its own check does not let through.
    """
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        shortcut = None
        for key, value in node.items():
            if key == "format" and isinstance(value, str):
                if native is not None and value in native and isinstance(node.get("allOf", []), list):
                    shortcut = {"anyOf": [native[value], {FORMAT_KEYWORD: value}]}
                else:
                    out[FORMAT_KEYWORD] = value
            else:
                out[key] = _with_format_keyword(value, native)
        if shortcut is not None:
            out["allOf"] = [*out.get("allOf", []), shortcut]
        return out
    if isinstance(node, list):
        return [_with_format_keyword(v, native) for v in node]
    return node


def _format_keyword(checker: FormatChecker | None) -> type:
    """The custom keyword class: the instance conforms to the format as `checker` judges it."""

    class FormatKeyword:
        def __init__(self, parent: Any, value: Any, path: Any) -> None:
            self.fmt = str(value)
            # What `FormatChecker.conforms` does, without its two calls per value: unknown formats conform,
            # a check conforms when it returns true without raising one of its declared exceptions.
            check = checker.checkers.get(self.fmt) if checker is not None else None
            self.func: Callable[[Any], Any] | None = check[0] if check is not None else None
            self.raises: Any = check[1] if check is not None else ()

        def validate(self, instance: Any) -> None:
            if self.func is None:
                return
            try:
                ok = self.func(instance)
            except self.raises:
                ok = False
            if not ok:
                raise ValueError(self.fmt)

    return FormatKeyword


def rs_registry(documents: Mapping[str, Any], native: Mapping[str, Any] | None = None) -> Any:
    """A jsonschema-rs registry of `documents` by URI (their formats as FORMAT_KEYWORD), or None if empty.

    `native`: see `_with_format_keyword`; only for checks whose checker is the one `native` stands for.
    """
    resources = [(uri, _with_format_keyword(doc, native)) for uri, doc in documents.items()]
    return jsonschema_rs.Registry(resources) if resources else None


class FastCheck:
    """`valid(instance)`: the jsonschema-rs verdict on `schema` (whose `$ref`s resolve in `documents`)."""

    def __init__(self, schema: Any, documents: Mapping[str, Any] | Any, checker: FormatChecker | None,
                 *, base_uri: str | None = None, native: Mapping[str, Any] | None = None) -> None:
        registry = documents if isinstance(documents, jsonschema_rs.Registry) else rs_registry(documents, native)
        options: dict[str, Any] = {"validate_formats": False, "keywords": {FORMAT_KEYWORD: _format_keyword(checker)}}
        if registry is not None:
            options["registry"] = registry
        if base_uri:
            options["base_uri"] = base_uri
        self._validator = jsonschema_rs.validator_for(_with_format_keyword(schema, native), **options)

    def valid(self, instance: Any) -> bool:
        return bool(self._validator.is_valid(instance))


def fast_check(schema: Any, documents: Mapping[str, Any] | Any, checker: FormatChecker | None,
               *, base_uri: str | None = None, native: Mapping[str, Any] | None = None) -> FastCheck | None:
    """A FastCheck, or None when jsonschema-rs cannot compile the schema (the Python path then decides)."""
    try:
        return FastCheck(schema, documents, checker, base_uri=base_uri, native=native)
    except (ValueError, TypeError, jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError):
        return None


def errors_unless_valid(check: FastCheck | None, instance: Any, errors: Callable[[Any], list]) -> list:
    """`[]` when rs says `instance` is valid, else what the Python path `errors(instance)` says."""
    if check is not None:
        try:
            if check.valid(instance):
                return []
        except (ValueError, TypeError, OverflowError):  # a value rs cannot represent (huge integers …)
            pass
    return errors(instance)


__all__ = ["FORMAT_KEYWORD", "FastCheck", "errors_unless_valid", "fast_check", "rs_registry"]
