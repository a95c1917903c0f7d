"""A form compiled once per pinned version: what every request would otherwise work out again.

`compiled_form(key, bundle)` gives the `CompiledForm` of a pinned form bundle (key: the version's content
hash), kept per process in a bounded LRU — the same shape as `workflow.spec.spec_for`. It is a
`FormSchema` (rendering, parsing and `schema_at` work as before, with every `$ref` resolved once and
every `if` compiled once) plus:

- the steps, and `schema_at` per path, computed once;
- the Python validator (it words errors) and a jsonschema-rs check (`forms.fast`) that decides
  valid/invalid first, so a valid document never walks the Python validator;
- the category path (`x-category`) and the e-licence fields (`x-source`);
- pruning by a *plan*: for each place of the form, the static expansion of its fragments (every
  `$ref`, `allOf` and `if`/`then`/`else`, `dependentRequired`, `dependentSchemas` unfolded once),
  each fragment with the conditions it depends on. Pruning data evaluates those conditions only, and
  skips every subtree where no condition can hide anything. It decides exactly as `FormSchema.build`
  does (a test compares both on the shipped forms); the last few results are kept, so the several
  checks of one request prune the same data once;
- "nothing to prune" as a schema (`_unpruned_schema`): every name pruning may remove, allowed only where
  the fragments that show it are active. jsonschema-rs checks it, alone or with the form in one call
  (`valid_as_is`): data that passes is neither walked, keyed nor copied.
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from jsonschema import Draft202012Validator

from formflow.forms.fast import FastCheck, ScreenedCheck, fast_check, rs_registry, screened_check
from formflow.forms.formats import FORMAT_CHECKER, NATIVE_FORMATS, SCREENED_FORMATS
from formflow.forms.render import FormSchema, Frag, Step, _base_uri, _first, _types, get_path
from formflow.forms.schema import validator_for

#: Pinned forms compiled per process (LRU).
FORMS_KEPT = 64
#: Pruned documents kept per form (the checks of one request prune the same data).
PRUNED_KEPT = 8
#: How deep the plan follows a recursive schema before it stops skipping (and prunes there as before).
MAX_DEPTH = 48
#: Keys the kept pruning results by a keyed digest of the data, never by the data (it is personal).
_KEY_SECRET = secrets.token_bytes(32)

Guard = tuple[int, bool]  # (condition index, must hold)


@dataclass
class _Frag:
    """A fragment of the static expansion: its place in `FormSchema.expand` with the guards of its activity."""

    schema: dict[str, Any]
    resolver: Any
    cond: bool
    local: bool
    origin: int  # the incoming fragment it descends from (its activity is inherited)
    guards: tuple[Guard, ...]


@dataclass
class _Place:
    """One place of the form (a list of incoming fragments), expanded once."""

    frags: list[_Frag]
    #: conditions tested here: ("if", schema, resolver) or ("has", name)
    conditions: list[tuple[Any, ...]]
    inert: bool | None = None  # no condition here or below: nothing can ever be hidden (None: not known yet)
    quiet: bool = False  # known to have no name pruning may remove, here or below (`_unpruned_at`)
    #: per fragment: its `required` and its property names; and what holds whatever the data
    required: list[frozenset[str]] = field(default_factory=list)
    props: list[frozenset[str]] = field(default_factory=list)
    base_required: frozenset[str] = frozenset()
    base_props: frozenset[str] = frozenset()
    hideable: frozenset[str] = frozenset()
    #: the names that may be hidden at all (the others never are)
    may_hide: frozenset[str] = frozenset()
    items_file: dict[int, bool] = field(default_factory=dict)
    children: dict[str, tuple[_Place, list[int]]] = field(default_factory=dict)
    items: tuple[_Place, list[int]] | None = None
    all_props: bool = False
    names: list[str] = field(default_factory=list)
    #: per incoming fragment: did it come from a condition (then it may be inactive, whatever holds here)
    incoming_cond: list[bool] = field(default_factory=list)


class CompiledForm(FormSchema):
    """A pinned form, compiled once (see the module docstring)."""

    def __init__(self, bundle: dict[str, Any]) -> None:
        super().__init__(bundle)
        documents = dict(bundle.get("common") or {}) | {self.uri: self.root}
        self.validator: Draft202012Validator = validator_for({"$ref": self.uri}, self.registry)
        self._rs_registry = rs_registry(documents, NATIVE_FORMATS)
        self.fast: FastCheck | None = fast_check({"$ref": self.uri}, self._rs_registry, FORMAT_CHECKER,
                                                 native=NATIVE_FORMATS)
        #: (id(condition), base URI) -> (condition, its jsonschema-rs check or None: Python decides)
        self._if_fast: dict[tuple[int, str], tuple[Any, FastCheck | None]] = {}
        self._steps = super().steps()
        self._schema_at: dict[tuple[str, ...], list[Frag]] = {}
        self._places: dict[tuple[Any, ...], _Place] = {}
        self._pruned: OrderedDict[bytes, list[tuple[Any, ...]]] = OrderedDict()
        self._lock = threading.Lock()
        unpruned = self._unpruned_schema()
        #: jsonschema-rs: has the data nothing to prune? and: that, and is it valid? (None: not known so)
        self._unpruned: FastCheck | None = None if unpruned is None else fast_check(
            unpruned, self._rs_registry, FORMAT_CHECKER, native=NATIVE_FORMATS,
            resolver=self.resolver)  # its conditions may `$ref`
        self._valid_as_is: FastCheck | None = None if unpruned is None or self.fast is None else fast_check(
            {"allOf": [{"$ref": self.uri}, unpruned]}, self._rs_registry, FORMAT_CHECKER, native=NATIVE_FORMATS)
        #: the same two checks by jsonschema-rs without call backs into Python (None: not known to be the same)
        self._fast_screened = self._screened({"$ref": self.uri}, documents) if self.fast is not None else None
        self._valid_as_is_screened = None if self._valid_as_is is None else self._screened(
            {"allOf": [{"$ref": self.uri}, unpruned]}, documents)
        self.category_path: tuple[Any, ...] | None = self._find_category()
        #: dotted paths (list indices as "*") of the fields filled from an e-licence, with their source
        self.sources: dict[str, str] = self._find_sources()

    # ------------------------------------------------------------------ what is asked once
    def steps(self) -> list[Step]:
        return list(self._steps)

    def schema_at(self, path: tuple[Any, ...]) -> list[Frag]:
        key = tuple("*" if isinstance(p, int) or (isinstance(p, str) and p.isdigit()) else str(p) for p in path)
        found = self._schema_at.get(key)
        if found is None:
            found = self._schema_at[key] = super().schema_at(path)
        return list(found)

    def _find_category(self) -> tuple[Any, ...] | None:
        found: list[tuple[Any, ...]] = []

        def visit(schema: Any, path: tuple[Any, ...], resolver: Any, depth: int = 0) -> None:
            if found or not isinstance(schema, dict) or depth > 12:
                return
            for frag in self._deref(Frag(schema, resolver)):
                if frag.schema.get("x-category") is True:
                    found.append(path)
                    return
                for name, sub in (frag.schema.get("properties") or {}).items():
                    visit(sub, (*path, name), frag.resolver, depth + 1)

        visit(self.root, (), self.resolver)
        return found[0] if found else None

    def _find_sources(self) -> dict[str, str]:
        out: dict[str, str] = {}

        def visit(schema: Any, path: tuple[str, ...], resolver: Any, depth: int = 0) -> None:
            if not isinstance(schema, dict) or depth > 16:
                return
            for frag in self._deref(Frag(schema, resolver)):
                source = frag.schema.get("x-source")
                if isinstance(source, str) and path:
                    out.setdefault(".".join(path), source)
                for name, sub in (frag.schema.get("properties") or {}).items():
                    visit(sub, (*path, name), frag.resolver, depth + 1)
                if isinstance(frag.schema.get("items"), dict):
                    visit(frag.schema["items"], (*path, "*"), frag.resolver, depth + 1)

        visit(self.root, (), self.resolver)
        return out

    def _holds(self, condition: Any, data: Any, resolver: Any) -> bool:
        """As `FormSchema._holds`, decided by jsonschema-rs (compiled once per condition)."""
        if not isinstance(condition, dict):
            return super()._holds(condition, data, resolver)
        key = (id(condition), _base_uri(resolver))
        found = self._if_fast.get(key)
        if found is None or found[0] is not condition:
            check = fast_check(_absolute_refs(condition, key[1]), self._rs_registry, FORMAT_CHECKER,
                               native=NATIVE_FORMATS, resolver=self.resolver)
            found = self._if_fast[key] = (condition, check)
        if found[1] is None:
            return super()._holds(condition, data, resolver)
        try:
            return found[1].valid(data)
        except (ValueError, TypeError, OverflowError):
            return super()._holds(condition, data, resolver)

    # ------------------------------------------------------------------ pruning
    def _screened(self, schema: dict[str, Any], documents: dict[str, Any]) -> ScreenedCheck | None:
        return screened_check(schema, documents, self.resolver, FORMAT_CHECKER, NATIVE_FORMATS, SCREENED_FORMATS)

    def valid_as_is(self, data: Any) -> bool:
        """Has `data` nothing to prune, and is it valid? One jsonschema-rs call; False when not known so."""
        screened = self._valid_as_is_screened
        if screened is not None:
            try:
                verdict = screened.verdict(data)
            except (ValueError, TypeError, OverflowError):
                verdict = None
            if verdict is not None:
                return verdict
        return _passes(self._valid_as_is, data)

    def valid(self, data: Any) -> bool:
        """Is (pruned) `data` valid, as `fast` says? jsonschema-rs without call backs first."""
        verdict = _verdict(self._fast_screened, data)
        return verdict if verdict is not None else _passes(self.fast, data)

    def _unpruned_schema(self) -> dict[str, Any] | None:
        """A schema that only data with nothing to prune passes, or None (a recursive form: not worked out).

        Pruning removes only names of a place's `may_hide` (`_walk_children`), at the data path that leads
        to the place; data loses nothing when each of them it has there is shown (`_shown`).
        """
        root = self._place(((id(self.root), _base_uri(self.resolver), False, False),), [(self.root, self.resolver)])
        return self._unpruned_at(root, (), 0)

    def _unpruned_at(self, place: _Place, above: tuple[int, ...], depth: int) -> dict[str, Any] | None:
        if self._is_inert(place, depth):
            return {}
        if id(place) in above or depth > MAX_DEPTH:
            return None
        above = (*above, id(place))
        props: dict[str, Any] = {}
        for name in place.names:
            sub = self._unpruned_at(self._child(place, name)[0], above, depth + 1)
            if sub is None:
                return None
            if sub:
                props[name] = sub
        out: dict[str, Any] = {"properties": props} if props else {}
        shown = {name: self._shown(place, name) for name in place.names if name in place.may_hide}
        if shown:
            out["dependentSchemas"] = shown
        if any(isinstance(f.schema.get("items"), dict) for f in place.frags):
            sub = self._unpruned_at(self._items(place)[0], above, depth + 1)
            if sub is None:
                return None
            if sub:
                out["items"] = sub
        place.quiet = not out  # the walk would record nothing here or below
        return out

    def _shown(self, place: _Place, name: str) -> Any:
        """A schema of the object at `place` that holds only when `_walk_children` keeps `name` there.

        It counts only the fragments active whenever their own guards hold (those whose incoming fragment
        came from no condition): more active fragments only show more, so this never says "shown" wrongly.
        """
        def active(i: int) -> Any:
            guards = [self._condition(place, index) if want else {"not": self._condition(place, index)}
                      for index, want in place.frags[i].guards]
            return {"allOf": guards} if guards else True

        def any_of(names: list[frozenset[str]]) -> Any:
            carriers = [i for i, f in enumerate(place.frags) if not place.incoming_cond[f.origin] and name in names[i]]
            return {"anyOf": [active(i) for i in carriers]} if carriers else False

        needed: list[Any] = []
        if name in place.hideable and name not in place.base_required:
            needed.append(any_of(place.required))
        if name not in place.base_props:
            needed.append(any_of(place.props))
        return {"allOf": needed}

    def _condition(self, place: _Place, index: int) -> Any:
        """Condition `index` of `place` as a schema of the object there (what `_walk` decides it by)."""
        condition = place.conditions[index]
        if condition[0] == "has":
            return {"required": [condition[1]]}
        if isinstance(condition[1], dict):
            return _absolute_refs(condition[1], _base_uri(condition[2]))
        return condition[1] is True  # `FormSchema._holds`: true holds, anything else not

    def prune_hidden(self, data: dict[str, Any]) -> dict[str, Any]:
        """As `FormSchema.prune_hidden` (a copy), by the plan; what the last few documents lost is kept."""
        return self.pruned(data, copy_always=True)

    def pruned(self, data: dict[str, Any], *, copy_always: bool = False) -> dict[str, Any]:
        """`data` without its hidden fields; `data` itself when nothing is hidden, unless `copy_always`.

        For reading only (validation, the checklist): the caller must not change what it gets.
        """
        if _passes(self._unpruned, data):
            return _copy(data) if copy_always else data
        key = _key_of(data)
        with self._lock:
            kept = self._pruned.get(key) if key is not None else None
            if kept is not None and key is not None:
                self._pruned.move_to_end(key)
        if kept is None:
            kept, result = self._deleted(data)
            if key is not None:
                with self._lock:
                    self._pruned[key] = kept
                    while len(self._pruned) > PRUNED_KEPT:
                        self._pruned.popitem(last=False)
        else:
            result = data
            for path in kept:
                result = _without(result, path)[0]
        return _copy(result) if copy_always else result

    def _deleted(self, data: dict[str, Any]) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
        """The paths pruning removes, round after round until stable (a removal may reveal or hide more),
        and `data` without them (sharing what it keeps with `data`).
        """
        first = self.hidden_paths(data)
        if not any(_exists(data, path) for path in first):
            return [], data
        result = data
        deleted: list[tuple[Any, ...]] = []
        paths = first
        for _round in range(10):
            removed = False
            for path in paths:
                result, gone = _without(result, path)
                if gone:
                    deleted.append(path)
                    removed = True
            if not removed or _passes(self._unpruned, result):
                break  # stable: the next round would find nothing there to remove
            paths = self.hidden_paths(result)
        return deleted, result

    def hidden_paths(self, data: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The paths `FormSchema.build` would record as hidden for `data`, found by the plan."""
        out: list[tuple[Any, ...]] = []
        root = self._place(((id(self.root), _base_uri(self.resolver), False, False),), [(self.root, self.resolver)])
        self._walk(root, [True], (), data, out, 0)
        return out

    def _place(self, key: tuple[Any, ...], incoming: list[tuple[dict[str, Any], Any]], depth: int = 0) -> _Place:
        found = self._places.get(key)
        if found is not None:
            return found
        place = self._expand_static(key, incoming)
        self._places[key] = place
        return place

    def _expand_static(self, key: tuple[Any, ...], incoming: list[tuple[dict[str, Any], Any]]) -> _Place:
        """`FormSchema.expand`, every branch queued as it does, each fragment with its guards."""
        conditions: list[tuple[Any, ...]] = []
        out: list[_Frag] = []
        queue = [_Frag(schema, resolver, bool(k[2]), bool(k[3]), i, ())
                 for i, ((schema, resolver), k) in enumerate(zip(incoming, key, strict=True))]
        seen = 0
        while queue and seen < 500:
            seen += 1
            head = queue.pop(0)
            for f in self._deref(Frag(head.schema, head.resolver, head.cond, True, head.local)):
                g = _Frag(f.schema, f.resolver, f.cond, f.local, head.origin, head.guards)
                out.append(g)
                s = g.schema
                props = _props_of(out)
                for sub in s.get("allOf") or []:
                    queue.append(_Frag(sub, g.resolver, g.cond, False, g.origin, g.guards))
                if "if" in s:
                    conditions.append(("if", s["if"], g.resolver))
                    index = len(conditions) - 1
                    scalar = self._scalar_test(s["if"], props)
                    if "then" in s:
                        queue.append(_Frag(s["then"], g.resolver, True, scalar, g.origin, (*g.guards, (index, True))))
                    if "else" in s:
                        queue.append(_Frag(s["else"], g.resolver, True, scalar, g.origin, (*g.guards, (index, False))))
                for trigger, needed in (s.get("dependentRequired") or {}).items():
                    conditions.append(("has", trigger))
                    guard = (*g.guards, (len(conditions) - 1, True))
                    queue.append(_Frag({"required": list(needed)}, g.resolver, True, True, g.origin, guard))
                for trigger, sub in (s.get("dependentSchemas") or {}).items():
                    conditions.append(("has", trigger))
                    guard = (*g.guards, (len(conditions) - 1, True))
                    queue.append(_Frag(sub, g.resolver, True, True, g.origin, guard))
        place = _Place(out, conditions, incoming_cond=[bool(k[2]) for k in key])
        place.all_props = bool(_props_of(out))
        names: list[str] = []
        for frag in out:
            for name in frag.schema.get("properties") or {}:
                if name not in names:
                    names.append(name)
        place.names = names
        place.required = [frozenset(f.schema.get("required") or []) for f in out]
        place.props = [frozenset(f.schema.get("properties") or {}) for f in out]
        place.base_required = frozenset().union(*[r for f, r in zip(out, place.required, strict=True) if not f.cond])
        place.base_props = frozenset().union(*[p for f, p in zip(out, place.props, strict=True) if not f.cond])
        place.hideable = frozenset().union(*[r for f, r in zip(out, place.required, strict=True)
                                             if f.cond and f.local])
        place.may_hide = frozenset(n for n in names if (n in place.hideable and n not in place.base_required)
                                   or n not in place.base_props)
        return place

    def _child(self, place: _Place, name: str) -> tuple[_Place, list[int]]:
        found = place.children.get(name)
        if found is None:
            carriers = [i for i, f in enumerate(place.frags) if name in (f.schema.get("properties") or {})]
            incoming = [(place.frags[i].schema["properties"][name], place.frags[i].resolver) for i in carriers]
            key = tuple((id(s), _base_uri(r), place.frags[i].cond, False)
                        for (s, r), i in zip(incoming, carriers, strict=True))
            found = place.children[name] = (self._place(key, incoming), carriers)
        return found

    def _items(self, place: _Place) -> tuple[_Place, list[int]]:
        if place.items is None:
            carriers = [i for i, f in enumerate(place.frags) if isinstance(f.schema.get("items"), dict)]
            incoming = [(place.frags[i].schema["items"], place.frags[i].resolver) for i in carriers]
            key = tuple((id(s), _base_uri(r), place.frags[i].cond, False)
                        for (s, r), i in zip(incoming, carriers, strict=True))
            place.items = (self._place(key, incoming), carriers)
        return place.items

    def _is_inert(self, place: _Place, depth: int = 0) -> bool:
        """No fragment here or below came from a condition: every fragment is active, nothing is ever hidden."""
        if place.inert is not None:
            return place.inert
        if depth > MAX_DEPTH:
            return False  # not recorded: a recursive schema is judged again from a shallower place
        inert = not any(f.cond for f in place.frags)
        inert = inert and all(self._is_inert(self._child(place, name)[0], depth + 1) for name in place.names)
        if inert and any(isinstance(f.schema.get("items"), dict) for f in place.frags):
            inert = self._is_inert(self._items(place)[0], depth + 1)
        place.inert = inert
        return inert

    def _walk(self, place: _Place, incoming_active: list[bool], path: tuple[Any, ...], data: Any,
              out: list[tuple[Any, ...]], depth: int) -> None:
        """`FormSchema.build` for one place, only as far as what is hidden goes."""
        if place.quiet or (all(incoming_active) and self._is_inert(place, depth)):
            return
        here = data if isinstance(data, dict) else {}
        holds: dict[int, bool] = {}

        def guard(index: int) -> bool:
            if index not in holds:
                condition = place.conditions[index]
                if condition[0] == "has":
                    holds[index] = condition[1] in here
                else:
                    holds[index] = self._holds(condition[1], here, condition[2])
            return holds[index]

        active = [incoming_active[f.origin] and all(guard(i) == want for i, want in f.guards) for f in place.frags]
        types_value: Any = None
        widget: Any = None
        typed = widgeted = False
        items_file = has_items = False
        for i, (f, a) in enumerate(zip(place.frags, active, strict=True)):
            if not a:
                continue
            schema = f.schema
            if not typed and "type" in schema:
                types_value, typed = schema["type"], True
            if not widgeted and "x-widget" in schema:
                widget, widgeted = schema["x-widget"], True
            if isinstance(schema.get("items"), dict):
                has_items = True
                items_file = items_file or self._items_are_files(place, i)
        if widget == "file" or widget == "hidden":
            return
        types = _types(types_value)
        if types == ["array"] and items_file:
            return
        if types == ["object"] or (not types and place.all_props):
            self._walk_children(place, active, path, here, out, depth)
            return
        if types == ["array"] and widget in (None, "repeat") and has_items and isinstance(data, list):
            child, carriers = self._items(place)
            child_active = [active[i] for i in carriers]
            for i, item in enumerate(data):
                self._walk(child, child_active, (*path, i), item, out, depth + 1)

    def _items_are_files(self, place: _Place, index: int) -> bool:
        """Is the `items` schema of fragment `index` a file (its first `x-widget`, through `$ref`s)?"""
        found = place.items_file.get(index)
        if found is None:
            f = place.frags[index]
            widget = _first(self._deref(Frag(f.schema["items"], f.resolver)), "x-widget")
            found = place.items_file[index] = widget == "file"
        return found

    def _walk_children(self, place: _Place, active: list[bool], path: tuple[Any, ...], data: dict[str, Any],
                       out: list[tuple[Any, ...]], depth: int) -> None:
        required_now: set[str] = set()
        active_props: set[str] = set()
        if place.may_hide:
            for i, a in enumerate(active):
                if a:
                    required_now.update(place.required[i])
                    active_props.update(place.props[i])
        for name in place.names:
            if name in place.may_hide and (
                (name in place.hideable and name not in place.base_required and name not in required_now)
                or (name not in place.base_props and name not in active_props)
            ):
                out.append((*path, name))
                continue
            child, carriers = self._child(place, name)
            child_active = [active[i] for i in carriers]
            if child.quiet or (child.inert and all(child_active)):
                continue
            self._walk(child, child_active, (*path, name), data.get(name), out, depth + 1)


def _absolute_refs(node: Any, base: str) -> Any:
    """A copy of a sub-schema whose `$ref`s are absolute against `base` (where its resolver stands)."""
    if isinstance(node, dict):
        return {k: (urljoin(base, v) if k == "$ref" and isinstance(v, str) else _absolute_refs(v, base))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_absolute_refs(v, base) for v in node]
    return node


def _key_of(data: Any) -> bytes | None:
    """A keyed digest of the data's JSON text (the same data, the same key), or None if it has none."""
    try:
        text = json.dumps(data, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        return None
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), key=_KEY_SECRET).digest()


def _passes(check: FastCheck | ScreenedCheck | None, data: Any) -> bool:
    """Does jsonschema-rs say `data` passes `check`? False when there is no check or rs cannot take the data."""
    if check is None:
        return False
    try:
        return check.valid(data)
    except (ValueError, TypeError, OverflowError):
        return False


def _verdict(check: ScreenedCheck | None, data: Any) -> bool | None:
    """`check.verdict(data)`; None when there is no check or rs cannot take the data."""
    if check is None:
        return None
    try:
        return check.verdict(data)
    except (ValueError, TypeError, OverflowError):
        return None


def _without(data: Any, path: tuple[Any, ...]) -> tuple[Any, bool]:
    """`data` without what `_delete(data, path)` would remove, and whether it did: the containers on
    the way are copied, everything else is shared with `data` (which is left as it was).
    """
    head, rest = path[0], path[1:]
    if not rest:
        if isinstance(data, dict) and head in data:
            out = dict(data)
            del out[head]
            return out, True
        return data, False
    if isinstance(data, dict):
        child = data.get(head)
    elif isinstance(data, list) and isinstance(head, int) and 0 <= head < len(data):
        child = data[head]
    else:
        return data, False
    changed, gone = _without(child, rest)
    if not gone:
        return data, False
    copied: Any = dict(data) if isinstance(data, dict) else list(data)
    copied[head] = changed
    return copied, True


def _exists(data: Any, path: tuple[Any, ...]) -> bool:
    """Would `_delete(data, path)` remove something?"""
    parent = get_path(data, path[:-1]) if len(path) > 1 else data
    return isinstance(parent, dict) and path[-1] in parent


def _copy(value: Any) -> Any:
    """A deep copy of JSON data (dicts and lists copied, everything else shared: it is immutable there)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return copy.deepcopy(value)


def _props_of(frags: list[_Frag]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in frags:
        for k, v in (f.schema.get("properties") or {}).items():
            out.setdefault(k, v)
    return out


_FORMS: OrderedDict[str, CompiledForm] = OrderedDict()
_FORMS_LOCK = threading.Lock()
#: (key, form) of the form asked for last (asked again and again by the checks of one request)
_LAST_FORM: tuple[str, CompiledForm] | None = None


def compiled_form(key: str, bundle: dict[str, Any]) -> CompiledForm:
    """The compiled form of a pinned form version (cached: pinned content never changes)."""
    last = _LAST_FORM
    if last is not None and last[0] == key:
        return last[1]  # the most recently used already: no lock, no reordering
    with _FORMS_LOCK:
        found = _FORMS.get(key)
        if found is not None:
            _FORMS.move_to_end(key)
    if found is not None:
        _remember(key, found)
        return found
    made = CompiledForm(bundle)  # outside the lock: two threads may both compile, one result is kept
    with _FORMS_LOCK:
        found = _FORMS.setdefault(key, made)
        while len(_FORMS) > FORMS_KEPT:
            _FORMS.popitem(last=False)
    _remember(key, found)
    return found


def _remember(key: str, form: CompiledForm) -> None:
    global _LAST_FORM
    _LAST_FORM = (key, form)


__all__ = ["CompiledForm", "compiled_form"]
