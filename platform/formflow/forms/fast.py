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

`ScreenedCheck` asks rs first without any call back (a custom keyword costs rs time even unused): the
formats as schemas rs checks alone, the rest of their checks in one Python pass over the values at the
paths where they may apply (`format_places`); where it cannot tell, the FastCheck decides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jsonschema_rs
from jsonschema import FormatChecker

#: The keyword every `format` becomes in the documents handed to jsonschema-rs.
FORMAT_KEYWORD = "x-formflow-format"


def _formats_rewritten(node: Any, instead: Callable[[str, dict[str, Any]], tuple[dict[str, Any], Any]]) -> Any:
    """A copy of a schema document where every `format` (a string at a schema's place) is replaced.

    `instead(format, place)` gives the keys put at the place instead, and a subschema added to its
    `allOf` (None: none); a place whose `allOf` is not a list then raises ValueError (not a schema rs takes).
    """
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        extra = None
        for key, value in node.items():
            if key == "format" and isinstance(value, str):
                keys, extra = instead(value, node)
                out.update(keys)
            else:
                out[key] = _formats_rewritten(value, instead)
        if extra is not None:
            if not isinstance(out.get("allOf", []), list):
                raise ValueError("allOf")
            out["allOf"] = [*out.get("allOf", []), extra]
        return out
    if isinstance(node, list):
        return [_formats_rewritten(v, instead) for v in node]
    return node


def _with_format_keyword(node: Any, native: Mapping[str, Any] | None = None) -> Any:
    """A copy of a schema document where every `format` (a string at a schema's place) is FORMAT_KEYWORD.

    With `native` (format -> a schema only conforming values pass, `formats.NATIVE_FORMATS`), a format
    found there becomes `anyOf: [that schema, FORMAT_KEYWORD]` (added to the place's `allOf`): the same
    verdict, and rs calls back into Python only for the values its own check does not let through.
    """
    def instead(fmt: str, place: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        if native is not None and fmt in native and isinstance(place.get("allOf", []), list):
            return {}, {"anyOf": [native[fmt], {FORMAT_KEYWORD: fmt}]}
        return {FORMAT_KEYWORD: fmt}, None

    return _formats_rewritten(node, instead)


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
                 *, base_uri: str | None = None, native: Mapping[str, Any] | None = None,
                 resolver: Any = None) -> None:
        registry = documents if isinstance(documents, jsonschema_rs.Registry) else rs_registry(documents, native)
        options: dict[str, Any] = {"validate_formats": False}
        if resolver is None or format_places(schema, resolver) != {}:
            # the keyword is registered only where a format may be reached: it costs rs time even unused
            options["keywords"] = {FORMAT_KEYWORD: _format_keyword(checker)}
        if registry is not None:
            options["registry"] = registry
        if base_uri:
            options["base_uri"] = base_uri
        self._options = options  # what rs was given (read by tests: whether the format keyword is registered)
        self._validator = jsonschema_rs.validator_for(_with_format_keyword(schema, native), **options)

    def valid(self, instance: Any) -> bool:
        return bool(self._validator.is_valid(instance))


def fast_check(schema: Any, documents: Mapping[str, Any] | Any, checker: FormatChecker | None,
               *, base_uri: str | None = None, native: Mapping[str, Any] | None = None,
               resolver: Any = None) -> FastCheck | None:
    """A FastCheck, or None when jsonschema-rs cannot compile the schema (the Python path then decides).

    `resolver` (a `referencing` resolver where `schema` stands): with it, a schema that reaches no
    `format` is checked without the format keyword.
    """
    try:
        return FastCheck(schema, documents, checker, base_uri=base_uri, native=native, resolver=resolver)
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


# --------------------------------------------------------------------------- rs without call backs

#: Applicators whose subschemas apply at the same place of the instance: (keyword, holds a list, polarity)
#: — 1 keeps the verdict's direction (stricter inside, stricter outside), 0 does not (`not` flips it,
#: `if` and `oneOf` go either way).
_SAME_PLACE = (("allOf", True, 1), ("anyOf", True, 1), ("oneOf", True, 0), ("not", False, 0), ("if", False, 0),
               ("then", False, 1), ("else", False, 1))
#: Applicators that move to places of the instance no fixed path names.
_OTHER_PLACES = ("additionalProperties", "patternProperties", "prefixItems", "contains", "propertyNames",
                 "unevaluatedProperties", "unevaluatedItems", "additionalItems", "dependencies", "$dynamicRef",
                 "$recursiveRef")
#: How long a path (or a chain of `$ref`s) the walk follows before it gives up (a recursive schema).
_MAX_PLACES = 40

Place = tuple[str, ...]  # property names, "*" for any item of an array


def format_places(schema: Any, resolver: Any) -> dict[str, set[tuple[Place, bool]]] | None:
    """Per format name, where a `format` of `schema` may apply: (instance path, in a place that keeps
    the verdict's direction). None when one may apply at a place no fixed path names.

    `resolver`: a `referencing` resolver standing where `schema` is (its `$ref`s resolve there).
    """
    from referencing.jsonschema import DRAFT202012

    found: dict[str, set[tuple[Place, bool]]] = {}
    seen: set[tuple[int, Place, bool, str]] = set()

    def visit(node: Any, res: Any, path: Place, keeps: bool, hops: int) -> bool:
        if not isinstance(node, dict):
            return True
        if len(path) + hops > _MAX_PLACES:
            return False
        res = res.in_subresource(DRAFT202012.create_resource(node)) if "$id" in node else res
        key = (id(node), path, keeps, str(res._base_uri))
        if key in seen:
            return True
        seen.add(key)
        if isinstance(node.get("format"), str):
            found.setdefault(node["format"], set()).add((path, keeps))
        elsewhere = [node[k] for k in _OTHER_PLACES if k in node]
        if elsewhere and not _without_formats(elsewhere):
            return False
        if isinstance(node.get("$ref"), str):
            target = res.lookup(node["$ref"])
            if not visit(target.contents, target.resolver, path, keeps, hops + 1):
                return False
        for keyword, many, polarity in _SAME_PLACE:
            subs = node.get(keyword, [] if many else None)
            for sub in (subs if many and isinstance(subs, list) else [subs]):
                if not visit(sub, res, path, keeps and polarity == 1, hops):
                    return False
        subs = [*(node.get("dependentSchemas") or {}).values()]
        if not all(visit(sub, res, path, keeps, hops) for sub in subs):
            return False
        props: dict[str, Any] = node["properties"] if isinstance(node.get("properties"), dict) else {}
        if not all(visit(sub, res, (*path, name), keeps, hops) for name, sub in props.items()):
            return False
        items = node.get("items")
        if isinstance(items, list):  # an older draft's tuple form: its places have no fixed path here
            return _without_formats(items)
        return visit(items, res, (*path, "*"), keeps, hops)

    try:
        return found if visit(schema, resolver, (), True, 0) else None
    except Exception:  # noqa: BLE001 - an unresolvable `$ref` and the like: rs with call backs decides
        return None


def _without_formats(node: Any) -> bool:
    """Does `node` hold neither a `format` nor a `$ref` (through which one may be reached)?"""
    if isinstance(node, dict):
        return "format" not in node and "$ref" not in node and all(_without_formats(v) for v in node.values())
    if isinstance(node, list):
        return all(_without_formats(v) for v in node)
    return True


def _screened_document(node: Any, screen_of: Callable[[str], Any]) -> Any:
    """A copy of a schema document where every `format` (a string) is its screen, `screen_of(format)`, in `allOf`
    (ValueError where a place's `allOf` is not a list: the check with call backs decides)."""
    return _formats_rewritten(node, lambda fmt, _place: ({}, screen_of(fmt)))


class _Trie:
    """The instance paths of the formats checked in Python, merged: `formats` apply here."""

    def __init__(self) -> None:
        self.formats: list[str] = []
        self.names: dict[str, _Trie] = {}
        self.items: _Trie | None = None

    def add(self, path: Place, fmt: str) -> None:
        node = self
        for step in path:
            if step == "*":
                node.items = node.items or _Trie()
                node = node.items
            else:
                node = node.names.setdefault(step, _Trie())
        if fmt not in node.formats:
            node.formats.append(fmt)

    def compiled(self, rests: Mapping[str, Callable[[list[Any]], bool]]) -> Callable[[Any], bool]:
        """A function of an instance: do the values at each format's paths pass its rest (`rests`)?

        Generated once as Python source (nested lookups, no call per place): a name of the schema goes in
        as a constant (`K[i]`), never as code; a format with no value there costs no call.
        """
        formats = list(rests)
        names: list[str] = []
        lines = ["def passes(v0):", *[f"    f{i} = []" for i in range(len(formats))]]
        self._source(0, 1, lines, names, formats)
        tests = [f"(not f{i} or R[{i}](f{i}))" for i in range(len(formats))]
        lines.append("    return " + (" and ".join(tests) or "True"))
        scope: dict[str, Any] = {"K": names, "R": list(rests.values())}
        exec("\n".join(lines), scope)  # noqa: S102 - code made above from this trie, names as constants
        passes: Callable[[Any], bool] = scope["passes"]
        return passes

    def _source(self, var: int, depth: int, lines: list[str], names: list[str], formats: list[str]) -> None:
        pad = "    " * depth
        for fmt in self.formats:
            lines.append(f"{pad}f{formats.index(fmt)}.append(v{var})")
        if self.names:
            lines.append(f"{pad}if isinstance(v{var}, dict):")
            for name, sub in self.names.items():
                names.append(name)
                lines.append(f"{pad}    if K[{len(names) - 1}] in v{var}:")
                lines.append(f"{pad}        v{var + 1} = v{var}[K[{len(names) - 1}]]")
                sub._source(var + 1, depth + 2, lines, names, formats)
        if self.items is not None:
            lines.append(f"{pad}if isinstance(v{var}, (list, tuple)):")
            lines.append(f"{pad}    for v{var + 1} in v{var}:")
            self.items._source(var + 1, depth + 2, lines, names, formats)


class ScreenedCheck:
    """`valid(instance)`: True only where the FastCheck of the same schema says so, without a call back.

    jsonschema-rs runs with no custom keyword: a native format as its native schema (only where that
    keeps the verdict's direction: stricter, never more lenient), every other format as a screen every
    conforming value passes (`formats.SCREENED_FORMATS`, else none). The rest of those formats' checks
    runs in Python, in one pass over the values at the paths where they may apply. When all those values
    pass it, each format there holds exactly where its screen does: rs's verdict is the schema's.
    False means "not known so": ask the FastCheck.
    """

    def __init__(self, validator: Any, trie: _Trie, rests: dict[str, Callable[[list[Any]], bool]],
                 loose: Any = None) -> None:
        self._rs_valid = validator.is_valid
        self._rests_pass = trie.compiled(rests)
        self._loose_valid = loose.is_valid if loose is not None else None

    def valid(self, instance: Any) -> bool:
        return self._rs_valid(instance) and self._rests_pass(instance)

    def verdict(self, instance: Any) -> bool | None:
        """True: valid; False: invalid; None: not known so (ask the FastCheck).

        "Invalid" comes from the schema without any `format` (`loose`, only where every format keeps
        the verdict's direction): what fails it fails with the formats too.
        """
        if self._rs_valid(instance):
            return True if self._rests_pass(instance) else None
        if self._loose_valid is not None and not self._loose_valid(instance):
            return False
        return None


def screened_check(schema: Any, documents: Mapping[str, Any], resolver: Any, checker: FormatChecker | None,
                   native: Mapping[str, Any], screened: Mapping[str, tuple[Any, Callable[[list[Any]], bool]]],
                   *, base_uri: str | None = None) -> ScreenedCheck | None:
    """A ScreenedCheck of `schema` (its `$ref`s in `documents`, `resolver` standing where it is), or None
    when a format may apply where no fixed path leads or a native one where it would loosen the verdict.
    """
    places = format_places(schema, resolver)
    if places is None or checker is None:
        return None
    screens: dict[str, Any] = {}
    rests: dict[str, Callable[[list[Any]], bool]] = {}
    trie = _Trie()
    for fmt, where in places.items():
        if fmt not in checker.checkers:
            continue  # unknown formats conform
        if fmt in native and fmt not in screened:
            if not all(keeps for _path, keeps in where):
                return None
            screens[fmt] = native[fmt]
            continue
        screen, rest = screened.get(fmt) or ({}, _all_conform(checker, fmt))
        screens[fmt] = screen
        rests[fmt] = rest
        for path, _keeps in where:
            trie.add(path, fmt)
    options: dict[str, Any] = {"validate_formats": False}
    def screen_of(fmt: str) -> Any:
        return screens.get(fmt, {})

    if base_uri:
        options["base_uri"] = base_uri
    keeps = all(keeps for where in places.values() for _path, keeps in where)
    try:
        resources = [(uri, _screened_document(doc, screen_of)) for uri, doc in documents.items()]
        if resources:
            options["registry"] = jsonschema_rs.Registry(resources)
        validator = jsonschema_rs.validator_for(_screened_document(schema, screen_of), **options)
        loose = _loose(schema, documents, options) if keeps else None
    except (ValueError, TypeError, jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError):
        return None
    try:
        return ScreenedCheck(validator, trie, rests, loose)
    except (SyntaxError, RecursionError):  # nested past what Python's compiler takes: the check with call backs
        return None


def _loose(schema: Any, documents: Mapping[str, Any], options: dict[str, Any]) -> Any:
    """jsonschema-rs of `schema` with no `format` at all (every format as `{}`)."""
    def nothing(fmt: str) -> Any:
        return {}

    loose = dict(options)
    if documents:
        loose["registry"] = jsonschema_rs.Registry([(uri, _screened_document(doc, nothing))
                                                    for uri, doc in documents.items()])
    return jsonschema_rs.validator_for(_screened_document(schema, nothing), **loose)


def _all_conform(checker: FormatChecker, fmt: str) -> Callable[[list[Any]], bool]:
    """The rest of a format with no screen: every value conforms, as `checker` judges it."""
    keyword = _format_keyword(checker)(None, fmt, None)

    def rest(values: list[Any]) -> bool:
        try:
            for value in values:
                keyword.validate(value)
        except ValueError:
            return False
        return True

    return rest


__all__ = ["FORMAT_KEYWORD", "FastCheck", "ScreenedCheck", "errors_unless_valid", "fast_check",
           "format_places", "rs_registry", "screened_check"]
