"""One line per pack for `formflow check`: what it holds, counted."""

from __future__ import annotations

from typing import Any

from formflow.packs.loader import Pack
from formflow.text.catalogue import _


def count_fields(schema: Any) -> int:
    """Leaf fields of a form: properties that are not groups of further properties."""
    if not isinstance(schema, dict):
        return 0
    total = 0
    for sub in (schema.get("properties") or {}).values():
        if isinstance(sub, dict) and sub.get("properties"):
            total += count_fields(sub)
        elif isinstance(sub, dict) and isinstance(sub.get("items"), dict) and sub["items"].get("properties"):
            total += count_fields(sub["items"])
        else:
            total += 1
    return total


def _content(doc: Any) -> dict[str, Any]:
    return doc.content if doc is not None and isinstance(doc.content, dict) else {}


def summarize(pack: Pack) -> str:
    params = _content(pack.parameters).get("parameters") or {}
    examples = sum(1 for p in params.values() if isinstance(p, dict) and p.get("example"))
    parts = []
    for matter in pack.matters.values():
        form = _content(matter.form)
        stages = _content(matter.workflow).get("stages") or {}
        parts.append(_(
            "%(matter)s: steps %(steps)s, fields %(fields)s, materials %(materials)s, review tables %(tables)s, "
            "stages %(stages)s",
            matter=matter.id, steps=len(form.get("properties") or {}), fields=count_fields(form),
            materials=len(_content(matter.materials).get("kinds") or {}), tables=len(matter.tables),
            stages=len(stages),
        ))
    offices = sum(1 for _node in _walk(_content(pack.offices).get("offices")))
    return _(
        "OK %(pack)s (%(name)s): matters %(matters)s [%(parts)s]; parameters %(parameters)s "
        "(example values to configure: %(examples)s), offices %(offices)s",
        pack=pack.id, name=pack.name, matters=len(pack.matters), parts="; ".join(parts), parameters=len(params),
        examples=examples, offices=offices,
    )


def _walk(nodes: Any):
    for node in nodes or []:
        if isinstance(node, dict):
            yield node
            yield from _walk(node.get("children"))
