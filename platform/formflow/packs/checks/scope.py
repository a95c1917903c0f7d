"""What one matter's files define, and whether a name used in them exists.

Fields of the form (through `$ref` and combinators), parameters, computed
values and meta variables; JSON Logic variables inside map/filter/reduce are
checked against the list items' schema.
"""

from __future__ import annotations

from typing import Any

from referencing import Registry

from formflow.forms.rules import META_VARIABLES
from formflow.forms.schema import registry_of
from formflow.packs.checks.walking import UNKNOWN, child_schemas, logic_vars
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
        self.renderers = packset.root / "renderers"

    @staticmethod
    def _content(doc: Any) -> dict[str, Any]:
        return doc.content if doc is not None and isinstance(doc.content, dict) else {}

    def field_schema(self, path: list[str], start: Any | None = None) -> Any | None:
        """The subschema at dotted `path` in the form, or None if there is no such field."""
        resolver = self.registry.resolver(base_uri=self.matter.form_uri)
        nodes = [(start if start is not None else self.form, resolver)]
        for segment in path:
            found = []
            for node, res in nodes:
                found.extend(child_schemas(node, res, segment))
            if not found:
                return None
            nodes = found
        return nodes[0][0]

    def check_logic(self, expr: Any, file: Any, where: str) -> None:
        for name, at, item in logic_vars(expr, where, None):
            message = self.unknown_variable(name, item)
            if message:
                self.reader.problem(file, at, message)

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
            if scope is UNKNOWN or name == "":
                return None
            if self.field_schema(name.split("."), scope) is None:
                return _("The rule names a field %(name)s that the list items do not have", name=repr(name))
            return None
        head, _dot, rest = name.partition(".")
        if head == "data":
            if self.form is not None and self.field_schema(rest.split(".")) is None:
                return _("The rule names a field %(name)s that the form does not have", name=repr(rest))
        elif head == "params":
            if rest not in self.params:
                return _("The rule names a parameter %(name)s that parameters.yaml does not have", name=repr(rest))
        elif head == "computed":
            if rest not in self.computed:
                return _("The rule names a computed value %(name)s that is not defined", name=repr(rest))
        elif head == "meta":
            if rest not in META_VARIABLES:
                return _("Unknown meta variable %(name)s (available: %(names)s)", name=repr(rest),
                         names=", ".join(sorted(META_VARIABLES)))
        else:
            return _("Variable %(name)s should start with data., computed., params. or meta.", name=repr(name))
        return None
