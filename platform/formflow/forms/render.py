"""JSON Schema + `x-` UI hints → wizard steps (a tree of field nodes for templates).

The form is the PINNED bundle (`Pinned.documents['form']`: uri, form, common).
Top-level properties are the steps, in order. Every node of a step is built
from the list of schema *fragments* that apply at its place: the property's own
schema with `$ref`s followed (sibling keywords first, so a local `title` wins),
plus what `allOf`, `if`/`then`/`else`, `dependentRequired` and
`dependentSchemas` add. Conditions are decided here, on the server, against the
current data; the browser only asks for a fresh fragment.

A property is *hidden* when a condition of its own object (`if` testing scalar
siblings, `dependentRequired`, `dependentSchemas`) is what requires it and that
condition does not hold now — e.g. the vehicle list while "has a vehicle" is no. Hidden
data stay in the draft (nothing is lost when a citizen flips an answer) but
are pruned before validation and submission (`prune_hidden`).

HTML field names are dotted data paths (`members.co_applicants.0.name`);
`parse_post` turns a posted form back into data, coercing by schema type.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from jsonschema import Draft202012Validator
from referencing.exceptions import Unresolvable

from formflow.forms.errors import FieldError, pointer
from formflow.forms.schema import registry_of
from formflow.text.catalogue import _

#: Keys posted by the wizard that are not data.
CONTROL_PREFIX = "_"
COUNT_SUFFIX = "__count"
TEXTAREA_OVER = 200
#: The full-width comma (U+FF0C) people type as a thousands separator.
FULLWIDTH_COMMA = chr(0xFF0C)


@dataclass(frozen=True)
class Frag:
    """One schema fragment applying at a place, with how it came to apply."""

    schema: dict[str, Any]
    resolver: Any
    cond: bool = False  # came from a condition (here or above)
    active: bool = True  # that condition holds for the current data
    local: bool = False  # the condition sits on this very object and tests its scalar siblings


@dataclass
class Node:
    path: tuple[Any, ...]
    kind: str  # object | repeat | item | field
    widget: str
    title: str = ""
    description: str = ""
    required: bool = False
    value: Any = None
    children: list[Node] = field(default_factory=list)
    options: list[tuple[Any, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unit: str = ""
    placeholder: str = ""
    readonly: bool = False
    computed: str | None = None
    source: str | None = None
    add_label: str = ""
    max_items: int | None = None
    max_length: int | None = None
    input_type: str = "text"
    fmt: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: the document a signature field signs (`x-document`: {document, title})
    document: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return ".".join(str(p) for p in self.path)

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", "-".join(str(p) for p in self.path))

    @property
    def pointer(self) -> str:
        return pointer(self.path)

    @property
    def error_id(self) -> str:
        return self.id + "-error"

    @property
    def help_id(self) -> str:
        return self.id + "-help"

    @property
    def display(self) -> str:
        return display_value(self.value)

    @property
    def option_title(self) -> str:
        for value, title in self.options:
            if value == self.value:
                return title
        return self.display

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Step:
    id: str
    title: str
    description: str
    index: int


@dataclass
class StepView:
    """One step, rendered for the current data."""

    step: Step
    root: Node
    errors: list[FieldError]
    #: (message, anchor id) for the summary at the top of the step
    summary: list[tuple[str, str]]


def display_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _base_uri(resolver: Any) -> str:
    """The base URI a resolver resolves against (what a cached `$ref` resolution depends on)."""
    return str(getattr(resolver, "_base_uri", id(resolver)))


def _types(schema_type: Any) -> list[str]:
    if isinstance(schema_type, list):
        return [str(t) for t in schema_type]
    return [str(schema_type)] if schema_type else []


class FormSchema:
    """The pinned form bundle, ready to render, parse and prune."""

    def __init__(self, bundle: dict[str, Any]) -> None:
        self.uri: str = bundle["uri"]
        self.root: dict[str, Any] = bundle["form"]
        self.registry = registry_of(dict(bundle.get("common") or {}) | {self.uri: self.root})
        self.resolver = self.registry.resolver(base_uri=self.uri)
        #: (id(condition), base URI) -> (condition, validator): pinned content never changes
        self._if_cache: dict[tuple[int, str], tuple[Any, Draft202012Validator]] = {}
        #: (id(schema), base URI) -> (schema, [(fragment schema, resolver), …]): every `$ref` resolved once
        self._ref_cache: dict[tuple[int, str], tuple[Any, list[tuple[dict[str, Any], Any]]]] = {}

    # ------------------------------------------------------------------ steps
    def steps(self) -> list[Step]:
        out = []
        props = self.root.get("properties") or {}
        for i, (key, sub) in enumerate(props.items()):
            frags = self._deref(Frag(sub, self.resolver))
            out.append(Step(key, _first(frags, "title") or key, _first(frags, "description") or "", i))
        return out

    def step(self, step_id: str) -> Step:
        for s in self.steps():
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    # ------------------------------------------------------------- fragments
    def _deref(self, frag: Frag, depth: int = 0) -> list[Frag]:
        """`frag` and what its `$ref` chain leads to (resolved once per schema and base URI, then cached)."""
        schema = frag.schema
        if not isinstance(schema, dict):
            return []
        key = (id(schema), _base_uri(frag.resolver))
        found = self._ref_cache.get(key)
        if found is None or found[0] is not schema:
            chain = [(f.schema, f.resolver) for f in self._deref_uncached(Frag(schema, frag.resolver), depth)]
            found = self._ref_cache[key] = (schema, chain)
        return [Frag(s, r, frag.cond, frag.active, frag.local) for s, r in found[1]]

    def _deref_uncached(self, frag: Frag, depth: int = 0) -> list[Frag]:
        schema = frag.schema
        if not isinstance(schema, dict):
            return []
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        out = [Frag(rest, frag.resolver, frag.cond, frag.active, frag.local)]
        ref = schema.get("$ref")
        if isinstance(ref, str) and depth < 32:
            try:
                resolved = frag.resolver.lookup(ref)
            except Unresolvable:
                return out
            out += self._deref_uncached(
                Frag(resolved.contents, resolved.resolver, frag.cond, frag.active, frag.local), depth + 1
            )
        return out

    def _holds(self, condition: Any, data: Any, resolver: Any) -> bool:
        if condition is True:
            return True
        if not isinstance(condition, dict):
            return False
        key = (id(condition), _base_uri(resolver))
        found = self._if_cache.get(key)
        if found is None or found[0] is not condition:
            try:
                made = Draft202012Validator(condition, registry=self.registry, _resolver=resolver)
            except TypeError:  # pragma: no cover - older jsonschema
                made = Draft202012Validator(condition, registry=self.registry)
            found = self._if_cache[key] = (condition, made)
        validator = found[1]
        try:
            return validator.is_valid(data)
        except Unresolvable:
            return False

    @staticmethod
    def _scalar_test(condition: Any, props: dict[str, Any]) -> bool:
        """Does `condition` test only scalar siblings (a yes/no or choice question)?"""
        if not isinstance(condition, dict):
            return False
        tested = set((condition.get("properties") or {}).keys()) | set(condition.get("required") or [])
        if not tested:
            return False
        for name in tested:
            sub = props.get(name)
            if not isinstance(sub, dict):
                return False
            if "properties" in sub or _types(sub.get("type")) in (["object"], ["array"]):
                return False
        return True

    def expand(self, frags: list[Frag], data: Any) -> list[Frag]:
        """Every fragment applying at a place: $refs followed, allOf and conditions unfolded."""
        here = data if isinstance(data, dict) else {}
        out: list[Frag] = []
        queue = list(frags)
        seen = 0
        while queue and seen < 500:
            seen += 1
            for f in self._deref(queue.pop(0)):
                out.append(f)
                s = f.schema
                props = _props(out)
                for sub in s.get("allOf") or []:
                    queue.append(Frag(sub, f.resolver, f.cond, f.active, False))
                if "if" in s:
                    holds = f.active and self._holds(s["if"], here, f.resolver)
                    scalar = self._scalar_test(s["if"], props)
                    if "then" in s:
                        queue.append(Frag(s["then"], f.resolver, True, f.active and holds, scalar))
                    if "else" in s:
                        queue.append(Frag(s["else"], f.resolver, True, f.active and not holds, scalar))
                for trigger, needed in (s.get("dependentRequired") or {}).items():
                    queue.append(Frag({"required": list(needed)}, f.resolver, True,
                                      f.active and trigger in here, True))
                for trigger, sub in (s.get("dependentSchemas") or {}).items():
                    queue.append(Frag(sub, f.resolver, True, f.active and trigger in here, True))
        return out

    # -------------------------------------------------------------- building
    def build(self, frags: list[Frag], path: tuple[Any, ...], data: Any, ctx: _Ctx) -> Node:
        frags = self.expand(frags, data)
        active = [f for f in frags if f.active]
        title = _first(active, "title") or (str(path[-1]) if path else "")
        desc = _first(active, "description") or ""
        types = _types(_first(active, "type"))
        widget = _first(active, "x-widget")
        node = Node(path=path, kind="field", widget=widget or "", title=title, description=desc)
        node.readonly = bool(_first(active, "x-readonly")) or ctx.readonly
        node.computed = _first(active, "x-computed")
        node.source = _first(active, "x-source")
        document = _first(active, "x-document")
        node.document = dict(document) if isinstance(document, dict) else None
        node.unit = _first(active, "x-unit") or ""
        node.placeholder = _first(active, "x-placeholder") or ""
        node.add_label = _first(active, "x-add-label") or ""
        node.max_items = _first(active, "maxItems")
        node.max_length = _first(active, "maxLength")
        node.fmt = _first(active, "format")
        node.value = data
        enum = _first(active, "enum")
        if enum is not None:
            titles = _first(active, "x-enum-titles") or []
            node.options = [(v, titles[i] if i < len(titles) else display_value(v)) for i, v in enumerate(enum)]
        item_schema_is_file = any(
            _first(self._deref(Frag(f.schema["items"], f.resolver)), "x-widget") == "file"
            for f in active if isinstance(f.schema.get("items"), dict)
        )
        if widget == "file" or (types == ["array"] and item_schema_is_file):
            node.widget = "file"
            node.value = data if isinstance(data, list) else []
            return node
        if widget == "hidden":
            return node
        if types == ["object"] or (not types and _props(frags)):
            node.kind = "object"
            node.widget = widget or "group"
            self._children(node, frags, data if isinstance(data, dict) else {}, ctx)
            if node.readonly:
                for sub in node.walk():
                    sub.readonly = True
            return node
        if types == ["array"] and widget in (None, "repeat") and _item_frags(active):
            node.kind = "repeat"
            node.widget = "repeat"
            items = data if isinstance(data, list) else []
            node.value = items
            for i, item in enumerate(items):
                child = self.build(_item_frags(frags), (*path, i), item, ctx)
                child.kind = "item" if child.kind == "object" else child.kind
                child.title = f"{child.title or title} {i + 1}"
                node.children.append(child)
            if node.readonly:
                for sub in node.walk():
                    sub.readonly = True
            return node
        node.widget = widget or _widget_for(types, node.fmt, enum, node.max_length)
        if node.widget == "number" or "number" in types or "integer" in types:
            node.input_type = "number" if node.widget not in ("money", "area") else "text"
        if node.widget == "date":
            node.input_type = "date"
        if node.widget in ("mobile",):
            node.input_type = "tel"
        if node.widget == "yesno" and not node.options:
            node.options = [(True, _("Yes")), (False, _("No"))]
        return node

    def _children(self, node: Node, frags: list[Frag], data: dict[str, Any], ctx: _Ctx) -> None:
        active = [f for f in frags if f.active]
        base_required = set().union(*[set(f.schema.get("required") or []) for f in frags if not f.cond])
        required_now = set().union(*[set(f.schema.get("required") or []) for f in active])
        hideable = set().union(*[set(f.schema.get("required") or []) for f in frags if f.cond and f.local])
        base_props = set().union(*[set((f.schema.get("properties") or {}).keys()) for f in frags if not f.cond])
        active_props = set().union(*[set((f.schema.get("properties") or {}).keys()) for f in active])
        names: list[str] = []
        for f in frags:
            for name in (f.schema.get("properties") or {}):
                if name not in names:
                    names.append(name)
        order = {}
        for name in names:
            sub_frags = [
                Frag(f.schema["properties"][name], f.resolver, f.cond, f.active)
                for f in frags if name in (f.schema.get("properties") or {})
            ]
            order[name] = _first([g for s in sub_frags for g in self._deref(s)], "x-order")
        position = {n: i for i, n in enumerate(names)}
        names.sort(key=lambda n: (order[n] if isinstance(order[n], int) else 10**6, position[n]))
        for name in names:
            hidden = (
                (name in hideable and name not in base_required and name not in required_now)
                or (name not in base_props and name not in active_props)
            )
            path = (*node.path, name)
            if hidden:
                ctx.hidden.append(path)
                continue
            if ctx.only is not None and not node.path and name != ctx.only:
                continue  # rendering one step: the others are not built
            sub_frags = [
                Frag(f.schema["properties"][name], f.resolver, f.cond, f.active)
                for f in frags if name in (f.schema.get("properties") or {})
            ]
            child = self.build(sub_frags, path, data.get(name), ctx)
            child.required = name in required_now
            if ctx.hide_paths and ".".join(map(str, path)) in ctx.hide_paths:
                ctx.hidden.append(path)
                continue
            node.children.append(child)

    def step_node(self, step_id: str, data: dict[str, Any], *, hide: set[str] | None = None) -> tuple[Node, list]:
        """The node tree of one step, decided against the WHOLE data (conditions may look across steps)."""
        ctx = _Ctx(hide_paths=hide or set(), only=step_id)
        root = self.build([Frag(self.root, self.resolver)], (), data, ctx)
        for child in root.children:
            if child.path == (step_id,):
                return child, ctx.hidden
        raise KeyError(step_id)

    def hidden_paths(self, data: dict[str, Any]) -> list[tuple[Any, ...]]:
        ctx = _Ctx()
        self.build([Frag(self.root, self.resolver)], (), data, ctx)
        return ctx.hidden

    def prune_hidden(self, data: dict[str, Any]) -> dict[str, Any]:
        """A copy of `data` without the values of fields whose condition does not hold.

        Pruning can reveal or hide other fields (chains), so it repeats until stable.
        """
        result = copy.deepcopy(data)
        for _round in range(10):
            removed = False
            for path in self.hidden_paths(result):
                if _delete(result, path):
                    removed = True
            if not removed:
                break
        return result

    def fields(self, data: dict[str, Any]) -> list[Node]:
        """Every node of the form for `data` (all steps)."""
        root = self.build([Frag(self.root, self.resolver)], (), data, _Ctx())
        return list(root.walk())

    # ---------------------------------------------------------------- schema lookup
    def schema_at(self, path: tuple[Any, ...]) -> list[Frag]:
        """All fragments that may apply at `path` (every branch), for coercing posted values."""
        frags = [Frag(self.root, self.resolver)]
        for seg in path:
            frags = self.expand(frags, None)
            nxt: list[Frag] = []
            for f in frags:
                s = f.schema
                if isinstance(seg, int) or (isinstance(seg, str) and seg.isascii() and seg.isdigit()):
                    if isinstance(s.get("items"), dict):
                        nxt.append(Frag(s["items"], f.resolver))
                elif seg in (s.get("properties") or {}):
                    nxt.append(Frag(s["properties"][seg], f.resolver))
            frags = [Frag(f.schema, f.resolver) for f in nxt]
            if not frags:
                return []
        return self.expand(frags, None)

    def type_at(self, path: tuple[Any, ...]) -> list[str]:
        return _types(_first(self.schema_at(path), "type"))

    # ---------------------------------------------------------------- parsing
    def parse_post(self, step_id: str, form: Any, stored: dict[str, Any]) -> dict[str, Any]:
        """Posted fields of a step merged over the stored data (a copy is returned).

        Every rendered editable field posts its name (blank = cleared). Repeatable
        groups post `<path>.__count`. Fields not posted (files, read-only,
        computed, hidden by a condition) keep their stored values.
        """
        data = copy.deepcopy(stored or {})
        if not isinstance(data.get(step_id), dict):
            data[step_id] = {}
        keys = [k for k in form.keys() if k.split(".", 1)[0] == step_id]
        counts = sorted((k for k in keys if k.endswith("." + COUNT_SUFFIX)), key=lambda k: k.count("."))
        for key in counts:
            path = _split(key[: -len(COUNT_SUFFIX) - 1])
            frags = self.schema_at(path)
            if not frags:  # not a list of this form: ignored, never stored
                continue
            limit = _first(frags, "maxItems")
            limit = min(limit, 200) if isinstance(limit, int) else 200
            try:
                n = max(0, min(int(form.get(key, "0")), limit))
            except ValueError:
                continue
            current = _get(data, path)
            items = list(current) if isinstance(current, list) else []
            items = items[:n] + [{} for _item in range(n - len(items))]
            _set(data, path, items)
        for key in keys:
            if key.endswith(COUNT_SUFFIX):
                continue
            path = _split(key)
            if not self.schema_at(path):  # a name the form does not have (injected): ignored
                continue
            values = [v for v in form.getlist(key)] if hasattr(form, "getlist") else [form.get(key)]
            raw = next((v for v in reversed(values) if v not in (None, "")), "")
            raw = raw.strip() if isinstance(raw, str) else raw
            if raw == "":
                if len(path) > 1 and not isinstance(_get(data, path[:-1]), (dict, list)):
                    _set(data, path[:-1], {})
                _delete(data, path)
                continue
            _set(data, path, coerce(raw, self.type_at(path)))
        return data


@dataclass
class _Ctx:
    hidden: list[tuple[Any, ...]] = field(default_factory=list)
    hide_paths: set[str] = field(default_factory=set)
    readonly: bool = False
    only: str | None = None  # build only this step (its conditions still see the whole data)


def coerce(raw: str, types: list[str]) -> Any:
    """A posted string as the schema's type; unparseable input is kept as text (validation says why)."""
    if "boolean" in types:
        if raw in ("true", "1", "yes", "on"):
            return True
        if raw in ("false", "0", "no"):
            return False
        return raw
    if "integer" in types or "number" in types:
        text = raw.replace(",", "").replace(FULLWIDTH_COMMA, "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            return raw
        if not number.is_finite():
            return raw
        if number == number.to_integral_value() and "." not in text and "e" not in text.lower():
            return int(number)
        return float(number) if "number" in types else raw
    return raw


def _widget_for(types: list[str], fmt: str | None, enum: Any, max_length: int | None) -> str:
    if "boolean" in types:
        return "yesno"
    if enum is not None:
        return "select"
    if fmt == "date":
        return "date"
    if fmt == "cn-id-card":
        return "idcard"
    if fmt == "cn-mobile":
        return "mobile"
    if fmt in ("money", "area"):
        return str(fmt)
    if "integer" in types or "number" in types:
        return "number"
    if max_length and max_length > TEXTAREA_OVER:
        return "textarea"
    return "text"


def _first(frags: list[Frag], key: str) -> Any:
    for f in frags:
        if key in f.schema:
            return f.schema[key]
    return None


def _props(frags: list[Frag]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in frags:
        for k, v in (f.schema.get("properties") or {}).items():
            out.setdefault(k, v)
    return out


def _item_frags(frags: list[Frag]) -> list[Frag]:
    return [Frag(f.schema["items"], f.resolver, f.cond, f.active)
            for f in frags if isinstance(f.schema.get("items"), dict)]


def _split(name: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isascii() and p.isdigit() else p for p in name.split("."))


def split_path(name: str) -> tuple[Any, ...]:
    return _split(name)


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for seg in path:
        if isinstance(data, dict):
            data = data.get(seg)
        elif isinstance(data, list) and isinstance(seg, int) and 0 <= seg < len(data):
            data = data[seg]
        else:
            return None
    return data


def get_path(data: Any, path: tuple[Any, ...]) -> Any:
    return _get(data, path)


def _set(data: Any, path: tuple[Any, ...], value: Any) -> bool:
    cur = data
    for i, seg in enumerate(path[:-1]):
        nxt_is_index = isinstance(path[i + 1], int)
        if isinstance(cur, dict):
            if not isinstance(cur.get(seg), (dict, list)):
                cur[seg] = [] if nxt_is_index else {}
            cur = cur[seg]
        elif isinstance(cur, list) and isinstance(seg, int):
            while len(cur) <= seg:
                cur.append({})
            if not isinstance(cur[seg], (dict, list)):
                cur[seg] = [] if nxt_is_index else {}
            cur = cur[seg]
        else:
            return False
    last = path[-1]
    if isinstance(cur, dict):
        cur[last] = value
    elif isinstance(cur, list) and isinstance(last, int):
        while len(cur) <= last:
            cur.append(None)
        cur[last] = value
    else:
        return False
    return True


def set_path(data: Any, path: tuple[Any, ...], value: Any) -> bool:
    return _set(data, path, value)


def _delete(data: Any, path: tuple[Any, ...]) -> bool:
    parent = _get(data, path[:-1]) if len(path) > 1 else data
    last = path[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
        return True
    return False


def delete_path(data: Any, path: tuple[Any, ...]) -> bool:
    return _delete(data, path)


def attach_errors(root: Node, errors: list[FieldError]) -> list[tuple[str, str]]:
    """Put each error on the deepest rendered node at or above its pointer; return the summary."""
    nodes = {n.path: n for n in root.walk()}
    summary = []
    for err in errors:
        path = tuple(int(p) if p.isdigit() else p for p in err.path)
        target = None
        for i in range(len(path), 0, -1):
            if path[:i] in nodes:
                target = nodes[path[:i]]
                break
        target = target or root
        if err.message not in target.errors:
            target.errors.append(err.message)
        anchor = target.id if target.kind == "field" or target.widget == "file" else target.id + "-legend"
        summary.append((err.message, anchor))
    return summary
