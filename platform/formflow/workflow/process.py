"""The process as a citizen reads it: the stages in order, who acts, how long each may take."""

from __future__ import annotations

from typing import Any

from babel.support import LazyProxy

from formflow.text.catalogue import DEFAULT_LOCALE, _, in_locale
from formflow.workflow.spec import END_KIND, stage_targets

#: Unit words as documents print them after the number (the engine's notices: the authority's language).
UNIT_TITLES = {
    "working": LazyProxy(in_locale, DEFAULT_LOCALE, " working days (after a number)", enable_cache=False),
    "calendar": LazyProxy(in_locale, DEFAULT_LOCALE, " days (after a number)", enable_cache=False),
}


def period_title(period: dict[str, Any] | None) -> str | None:
    """'3 working days' / '20 days' (catalogue wording) for a time limit or duration, None when there is none."""
    if not period:
        return None
    days = period["days"]
    if isinstance(days, dict):  # a document not loaded yet: `{param: id}` is shown as the parameter's id
        days = str(days.get("param") or "")
    if period.get("unit") == "working":
        return _("%(days)s working days", days=days)
    return _("%(days)s days", days=days)


def ordered_stage_ids(workflow: dict[str, Any]) -> list[str]:
    """Stage ids breadth-first from `start` along every way out (actions, expiry, joins)."""
    stages = workflow.get("stages") or {}
    order: list[str] = []
    todo = [workflow.get("start")]
    while todo:
        sid = todo.pop(0)
        if not isinstance(sid, str) or sid in order or sid not in stages:
            continue
        order.append(sid)
        todo.extend(stage_targets(stages[sid] or {}))
        todo.extend(k for k, v in stages.items() if sid in ((v or {}).get("join") or []))
    return order


def process(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    """Non-end stages in order: id, title, time_limit (e.g. '3 working days', or None), owner (role title or None)."""
    stages = workflow.get("stages") or {}
    roles = workflow.get("roles") or {}
    out = []
    for sid in ordered_stage_ids(workflow):
        stage = stages[sid] or {}
        if stage.get("kind") == END_KIND:
            continue
        owner = (stage.get("owner") or {}).get("role")
        out.append({
            "id": sid,
            "title": str(stage.get("title", sid)),
            "time_limit": period_title(stage.get("time_limit") or stage.get("duration")),
            "owner": str((roles.get(owner) or {}).get("title") or owner) if owner else None,
        })
    return out
