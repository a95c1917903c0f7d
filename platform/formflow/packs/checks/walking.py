"""Walking configuration: the subschemas of a JSON Schema, the variables of a JSON Logic expression.

`subschemas` yields every subschema with its JSON pointer, `child_schemas` the
schemas a path segment leads to (following `$ref` and combinators),
`logic_vars` every variable with its item scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from referencing.exceptions import Unresolvable

from formflow.forms.errors import pointer
from formflow.forms.rules import ITERATING_OPS

UNKNOWN = object()
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_ONE = ("if", "then", "else", "not", "items", "contains", "additionalProperties")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")


def subschemas(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every subschema of a schema, with its JSON pointer."""
    if not isinstance(node, dict):
        return
    yield where, node
    for key in _SUBSCHEMA_ONE:
        yield from subschemas(node.get(key), f"{where}/{key}")
    for key in _SUBSCHEMA_LISTS:
        for i, sub in enumerate(node.get(key) or []):
            yield from subschemas(sub, f"{where}/{key}/{i}")
    for key in _SUBSCHEMA_MAPS:
        for name, sub in (node.get(key) or {}).items():
            yield from subschemas(sub, f"{where}/{key}{pointer([name])}")


def child_schemas(node: Any, resolver: Any, segment: str) -> list[tuple[Any, Any]]:
    """Schemas that `segment` leads to from `node`, following `$ref` and combinators."""
    if not isinstance(node, dict):
        return []
    if isinstance(node.get("$ref"), str):
        try:
            resolved = resolver.lookup(node["$ref"])
        except Unresolvable:
            return []
        return child_schemas(resolved.contents, resolved.resolver, segment)
    found = []
    if segment.isdigit() and isinstance(node.get("items"), dict):
        found.append((node["items"], resolver))
    props = node.get("properties") or {}
    if segment in props:
        found.append((props[segment], resolver))
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key) or []:
            found.extend(child_schemas(sub, resolver, segment))
    for key in ("then", "else"):
        found.extend(child_schemas(node.get(key), resolver, segment))
    for sub in (node.get("dependentSchemas") or {}).values():
        found.extend(child_schemas(sub, resolver, segment))
    return found


def logic_vars(expr: Any, where: str, item: Any) -> Iterator[tuple[str, str, Any]]:
    """(variable name, pointer, item scope) for every `var` in a JSON Logic expression.

    Inside map/filter/all/some/none/reduce the body's variables are relative
    to the array item; the scope then carries the item's schema when known.
    """
    if isinstance(expr, list):
        for i, sub in enumerate(expr):
            yield from logic_vars(sub, f"{where}/{i}", item)
        return
    if not isinstance(expr, dict) or len(expr) != 1:
        return
    op, args = next(iter(expr.items()))
    at = f"{where}{pointer([op])}"
    if op == "var":
        name = args[0] if isinstance(args, list) and args else args
        if isinstance(name, str) and name != "":
            yield name, at, item
        return
    if op in ITERATING_OPS and isinstance(args, list) and args:
        yield from logic_vars(args[0], f"{at}/0", item)
        source = args[0].get("var") if isinstance(args[0], dict) else None
        known = source if item is None and isinstance(source, str) else None
        body_scope = (known, op == "reduce")
        for i, sub in enumerate(args[1:2], start=1):
            yield from logic_vars(sub, f"{at}/{i}", body_scope)
        for i, sub in enumerate(args[2:], start=2):
            yield from logic_vars(sub, f"{at}/{i}", item)
        return
    yield from logic_vars(args, at, item)
