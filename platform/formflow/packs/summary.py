"""One line per pack for `formflow check`: what it holds, counted."""

from __future__ import annotations

from typing import Any

from formflow.packs.loader import Pack


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
        parts.append(
            f"{matter.id}: {len(form.get('properties') or {})} 步, {count_fields(form)} 个字段, "
            f"{len(_content(matter.materials).get('kinds') or {})} 种材料, "
            f"{len(matter.tables)} 张审查表, {len(stages)} 个阶段"
        )
    offices = sum(1 for _ in _walk(_content(pack.offices).get("offices")))
    return (
        f"OK {pack.id}（{pack.name}）: {len(pack.matters)} 个事项 [{'; '.join(parts)}]; "
        f"{len(params)} 个参数（{examples} 个示例值待配置）, {offices} 个机构"
    )


def _walk(nodes: Any):
    for node in nodes or []:
        if isinstance(node, dict):
            yield node
            yield from _walk(node.get("children"))
