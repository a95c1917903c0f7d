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


def _referenced(node: dict[str, Any], resolver: Any) -> tuple[Any, Any] | None:
    """`(contents, resolver)` of the schema a `$ref` node points at; None when it points nowhere."""
    try:
        resolved = resolver.lookup(node["$ref"])
    except Unresolvable:
        return None
    return resolved.contents, resolved.resolver


def _branches(node: dict[str, Any]) -> list[Any]:
    """The subschemas whose fields are also the node's: combinators, the two sides of an if, dependent schemas."""
    return [*(node.get("allOf") or []), *(node.get("anyOf") or []), *(node.get("oneOf") or []),
            node.get("then"), node.get("else"), *(node.get("dependentSchemas") or {}).values()]


def child_schemas(node: Any, resolver: Any, segment: str) -> list[tuple[Any, Any]]:
    """Schemas that `segment` leads to from `node`, following `$ref` and combinators."""
    if not isinstance(node, dict):
        return []
    if isinstance(node.get("$ref"), str):
        target = _referenced(node, resolver)
        return [] if target is None else child_schemas(target[0], target[1], segment)
    found = []
    if segment.isdigit() and isinstance(node.get("items"), dict):
        found.append((node["items"], resolver))
    props = node.get("properties") or {}
    if segment in props:
        found.append((props[segment], resolver))
    for sub in _branches(node):
        found.extend(child_schemas(sub, resolver, segment))
    return found


def _logic_nodes(expr: Any, where: str, item: Any) -> Iterator[tuple[str, Any, str, Any]]:
    """(operation, arguments, pointer, item scope) for every node of a JSON Logic expression, `var`s included.

    Inside map/filter/all/some/none/reduce the body's variables are relative
    to the array item; the scope then carries the item's schema when known.
    """
    if isinstance(expr, list):
        for i, sub in enumerate(expr):
            yield from _logic_nodes(sub, f"{where}/{i}", item)
        return
    if not isinstance(expr, dict) or len(expr) != 1:
        return
    op, args = next(iter(expr.items()))
    at = f"{where}{pointer([op])}"
    yield op, args, at, item
    if op == "var":
        return
    if op in ITERATING_OPS and isinstance(args, list) and args:
        yield from _logic_nodes(args[0], f"{at}/0", item)
        source = args[0].get("var") if isinstance(args[0], dict) else None
        known = source if item is None and isinstance(source, str) else None
        for i, sub in enumerate(args[1:2], start=1):
            yield from _logic_nodes(sub, f"{at}/{i}", (known, op == "reduce"))
        for i, sub in enumerate(args[2:], start=2):
            yield from _logic_nodes(sub, f"{at}/{i}", item)
        return
    yield from _logic_nodes(args, at, item)


def logic_vars(expr: Any, where: str, item: Any) -> Iterator[tuple[str, str, Any]]:
    """(variable name, pointer, item scope) for every `var` in a JSON Logic expression."""
    for op, args, at, scope in _logic_nodes(expr, where, item):
        if op == "var":
            name = args[0] if isinstance(args, list) and args else args
            if isinstance(name, str) and name != "":
                yield name, at, scope


def logic_ops(expr: Any, where: str, item: Any) -> Iterator[tuple[str, Any, str, Any]]:
    """(operation, arguments, pointer, item scope) for every operation but `var` (scopes as `logic_vars`)."""
    for node in _logic_nodes(expr, where, item):
        if node[0] != "var":
            yield node


#: JSON Logic operations that compare a value with another, and those whose truth a literal can decide.
EQUALITY_OPS = ("==", "!=", "===", "!==")
_LITERAL = (str, int, float, bool)


def _var_name(arg: Any) -> str | None:
    if isinstance(arg, dict) and len(arg) == 1 and "var" in arg:
        name = arg["var"]
        name = name[0] if isinstance(name, list) and name else name
        return name if isinstance(name, str) and name else None
    return None


def comparisons(expr: Any, where: str) -> Iterator[tuple[str, Any, list[tuple[Any, str]], bool]]:
    """(variable, item scope, [(literal, its pointer)], of_items) for every comparison with literals.

    `{"==": [{"var": v}, "x"]}` (and !=, ===, !==, either order), `{"in": [{"var": v}, ["x", "y"]]}`
    (v is one of the list), and `{"in": ["x", {"var": v}]}` (the array v holds "x": of_items).
    """
    for op, args, at, item in logic_ops(expr, where, None):
        if not isinstance(args, list) or len(args) != 2:
            continue
        first, second = args
        if op in EQUALITY_OPS:
            for i, (var, lit) in enumerate(((first, second), (second, first))):
                name = _var_name(var)
                if name is not None and isinstance(lit, _LITERAL):
                    yield name, item, [(lit, f"{at}/{1 - i}")], False
        elif op == "in":
            name = _var_name(first)
            if name is not None and isinstance(second, list) and all(isinstance(v, _LITERAL) for v in second):
                yield name, item, [(v, f"{at}/1/{j}") for j, v in enumerate(second)], False
            name = _var_name(second)
            if name is not None and isinstance(first, _LITERAL) and not isinstance(first, bool):
                yield name, item, [(first, f"{at}/0")], True


#: How deep `field_paths` and `allowed_values` follow nesting and `$ref`s (forms are shallow; cycles stop here).
_DEPTH = 12


def _properties(node: Any, resolver: Any, depth: int = 0) -> list[tuple[str, Any, Any]]:
    """(name, subschema, resolver) of the properties a schema has, through `$ref` and combinators."""
    if not isinstance(node, dict) or depth > _DEPTH:
        return []
    if isinstance(node.get("$ref"), str):
        target = _referenced(node, resolver)
        return [] if target is None else _properties(target[0], target[1], depth + 1)
    found = [(str(name), sub, resolver) for name, sub in (node.get("properties") or {}).items()]
    for sub in _branches(node):
        found.extend(_properties(sub, resolver, depth + 1))
    return found


def field_paths(node: Any, resolver: Any) -> set[str]:
    """Every dotted field path under a schema (what a `data.` variable may name), for "did you mean"."""
    paths: set[str] = set()

    def visit(schema: Any, res: Any, prefix: str, depth: int) -> None:
        if depth > _DEPTH:
            return
        for name, sub, sub_res in _properties(schema, res):
            path = prefix + name
            if path not in paths:
                paths.add(path)
                visit(sub, sub_res, path + ".", depth + 1)

    visit(node, resolver, "", 0)
    return paths


def _values(node: Any, resolver: Any, depth: int = 0) -> list[Any] | None:
    """The values a schema allows when it lists them (enum, const, a oneOf/anyOf of those, boolean), else None."""
    if not isinstance(node, dict) or depth > _DEPTH:
        return None
    if isinstance(node.get("$ref"), str):
        target = _referenced(node, resolver)
        return None if target is None else _values(target[0], target[1], depth + 1)
    if "const" in node:
        return [node["const"]]
    if isinstance(node.get("enum"), list):
        return list(node["enum"])
    for key in ("oneOf", "anyOf"):
        branches = node.get(key)
        if isinstance(branches, list) and branches:
            found = [_values(b, resolver, depth + 1) for b in branches]
            if all(f is not None for f in found):
                return [v for f in found for v in f or []]
            return None
    for sub in node.get("allOf") or []:
        found_in_sub = _values(sub, resolver, depth + 1)
        if found_in_sub is not None:
            return found_in_sub
    if node.get("type") == "boolean":
        return [True, False]
    return None


def allowed_values(nodes: list[tuple[Any, Any]]) -> list[Any] | None:
    """The values a field may take across the schemas it has (None: not a closed list, or no schema)."""
    if not nodes:
        return None
    allowed: list[Any] = []
    for node, resolver in nodes:
        found = _values(node, resolver)
        if found is None:
            return None
        allowed.extend(v for v in found if not any(type(v) is type(a) and v == a for a in allowed))
    return allowed
