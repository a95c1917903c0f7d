"""What one matter's files define, and whether a name used in them exists.

Fields of the form (through `$ref` and combinators), parameters, computed
values and meta variables; JSON Logic variables inside map/filter/reduce are
checked against the list items' schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from referencing import Registry

from formflow.forms.rules import META_VARIABLES
from formflow.forms.schema import registry_of
from formflow.packs.checks.offices import office_levels
from formflow.packs.checks.suggest import did_you_mean
from formflow.packs.checks.walking import UNKNOWN, allowed_values, child_schemas, comparisons, field_paths, logic_vars
from formflow.packs.loader import Matter, Pack, PackSet
from formflow.packs.problems import Reader
from formflow.text.catalogue import _


class MatterScope:
    """The names one matter's files define, and the check of a name used in a rule."""

    def __init__(self, packset: PackSet, pack: Pack, matter: Matter, reader: Reader) -> None:
        self.pack, self.matter, self.reader = pack, matter, reader
        self.form = matter.form.content if matter.form and isinstance(matter.form.content, dict) else None
        documents = dict(packset.common)
        if self.form is not None:
            documents[matter.form_uri] = self.form
        self.registry: Registry = registry_of(documents)
        self.params = set(self._content(pack.parameters).get("parameters") or {})
        self.rules = self._content(matter.rules)
        self.computed = set(self.rules.get("computed") or {})
        self.materials = self._content(matter.materials)
        self.kinds = set(self.materials.get("kinds") or {})
        self.workflow = self._content(matter.workflow)
        self.stages: dict[str, Any] = self.workflow.get("stages") or {}
        self.root = packset.root
        self.renderers = packset.root / "renderers"
        # Files that exist but did not parse: what they define is unknown, so names in them are not checked.
        root, folder = packset.root, packset.root / "schemas" / pack.id / matter.id
        self.unparsed = {
            "parameters": reader.is_broken(root / "seeds" / pack.id / "parameters.yaml"),
            "offices": reader.is_broken(root / "seeds" / pack.id / "offices.yaml"),
            "demo": reader.is_broken(root / "seeds" / pack.id / "demo.yaml"),
            "form": reader.is_broken(folder / "form.schema.json"),
            "common": any(f.startswith("schemas/common/") for f in reader.broken),
            "rules": reader.is_broken(folder / "rules.yaml"),
            "materials": reader.is_broken(folder / "materials.yaml"),
            "workflow": reader.is_broken(root / "workflows" / pack.id / f"{matter.id}.yaml"),
        }
        tables = reader.rel(folder / "tables") + "/"
        self.unparsed_tables = {Path(f).stem for f in reader.broken if f.startswith(tables)}
        self.levels = office_levels(pack)
        self._field_names: dict[int, list[str]] = {}

    @staticmethod
    def _content(doc: Any) -> dict[str, Any]:
        return doc.content if doc is not None and isinstance(doc.content, dict) else {}

    def field_nodes(self, path: list[str], start: Any | None = None) -> list[tuple[Any, Any]]:
        """(subschema, resolver) of every schema the dotted `path` leads to in the form; empty if none."""
        resolver = self.registry.resolver(base_uri=self.matter.form_uri)
        nodes = [(start if start is not None else self.form, resolver)]
        for segment in path:
            found = []
            for node, res in nodes:
                found.extend(child_schemas(node, res, segment))
            if not found:
                return []
            nodes = found
        return nodes

    def field_schema(self, path: list[str], start: Any | None = None) -> Any | None:
        """The subschema at dotted `path` in the form, or None if there is no such field."""
        nodes = self.field_nodes(path, start)
        return nodes[0][0] if nodes else None

    def field_names(self, start: Any | None = None) -> list[str]:
        """Every dotted field path of the form (or under `start`), for "did you mean"."""
        key = id(start)
        if key not in self._field_names:
            resolver = self.registry.resolver(base_uri=self.matter.form_uri)
            self._field_names[key] = sorted(field_paths(start if start is not None else self.form, resolver))
        return self._field_names[key]

    def check_logic(self, expr: Any, file: Any, where: str) -> None:
        for name, at, item in logic_vars(expr, where, None):
            message = self.unknown_variable(name, item)
            if message:
                self.reader.problem(file, at, message)
        self.check_compared_values(expr, file, where)

    def check_compared_values(self, expr: Any, file: Any, where: str) -> None:
        """A field compared with a literal outside its enum/const values: the condition is decided in advance."""
        for name, item, literals, of_items in comparisons(expr, where):
            nodes = self.variable_nodes(name, item)
            if of_items:
                nodes = [n for node, res in nodes for n in child_schemas(node, res, "0")]
            allowed = allowed_values(nodes)
            if allowed is None:
                continue
            for literal, at in literals:
                if any(_same(literal, value) for value in allowed):
                    continue
                shown = _(", ").join(json.dumps(v, ensure_ascii=False) for v in allowed)
                self.reader.problem(file, at, _(
                    "%(value)s is not a value the field %(field)s can take (its values: %(allowed)s), "
                    "so this condition is decided whatever the applicant enters",
                    value=json.dumps(literal, ensure_ascii=False), field=repr(name), allowed=shown)
                    + did_you_mean(str(literal), [str(v) for v in allowed]))

    def variable_nodes(self, name: str, item: Any) -> list[tuple[Any, Any]]:
        """The schemas a rule variable reads (a form field, or a field of the list items); empty if unknown."""
        if self.form is None:
            return []
        if item is None:
            head, _dot, rest = name.partition(".")
            return self.field_nodes(rest.split(".")) if head == "data" and rest else []
        source, reducing = item
        if reducing:
            if name != "current" and not name.startswith("current."):
                return []
            name = name[len("current") :].lstrip(".")
        scope = self.item_schema(source)
        if scope is UNKNOWN:
            return []
        if name == "":
            return [(scope, self.registry.resolver(base_uri=self.matter.form_uri))]
        return self.field_nodes(name.split("."), scope)

    def item_schema(self, source: str | None) -> Any:
        """Schema of the items of the array variable `source`, or UNKNOWN."""
        if not source or not source.startswith("data.") or self.form is None:
            return UNKNOWN
        array = self.field_schema(source[len("data.") :].split("."))
        if array is None:
            return UNKNOWN
        items = self.field_schema(["0"], array)
        return items if items is not None else UNKNOWN

    def unknown_variable(self, name: str, item: Any) -> str | None:
        if item is not None:
            source, reducing = item
            scope = self.item_schema(source)
            if reducing:
                if name == "accumulator" or name.startswith("accumulator."):
                    return None
                if name != "current" and not name.startswith("current."):
                    return _("Inside reduce only current or accumulator may be used, not %(name)s", name=repr(name))
                name = name[len("current") :].lstrip(".")
            if scope is UNKNOWN or name == "" or self.unparsed["common"]:
                return None
            if self.field_schema(name.split("."), scope) is None:
                return _("The rule names a field %(name)s that the list items do not have", name=repr(name)) + \
                    did_you_mean(name, self.field_names(scope))
            return None
        head, _dot, rest = name.partition(".")
        if head == "data":
            if self.form is not None and not self.unparsed["common"] and self.field_schema(rest.split(".")) is None:
                return _("The rule names a field %(name)s that the form does not have", name=repr(rest)) + \
                    did_you_mean(rest, self.field_names())
        elif head == "params":
            if rest not in self.params and not self.unparsed["parameters"]:
                return _("The rule names a parameter %(name)s that parameters.yaml does not have",
                         name=repr(rest)) + did_you_mean(rest, self.params)
        elif head == "computed":
            if rest not in self.computed and not self.unparsed["rules"]:
                return _("The rule names a computed value %(name)s that is not defined",
                         name=repr(rest)) + did_you_mean(rest, self.computed)
        elif head == "meta":
            if rest not in META_VARIABLES:
                return _("Unknown meta variable %(name)s (available: %(names)s)", name=repr(rest),
                         names=", ".join(sorted(META_VARIABLES)))
        else:
            return _("Variable %(name)s should start with data., computed., params. or meta.", name=repr(name))
        return None


def _same(literal: Any, value: Any) -> bool:
    """JSON equality, keeping true apart from 1 (Python's True == 1)."""
    return type(literal) is type(value) and literal == value or (
        not isinstance(literal, bool) and not isinstance(value, bool)
        and isinstance(literal, (int, float)) and isinstance(value, (int, float)) and literal == value)
