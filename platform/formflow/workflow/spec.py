"""Workflow configuration → the facts the engine and the checker need."""

from __future__ import annotations

from typing import Any

REVIEW_KIND = "review"
TIMER_KIND = "timer"
END_KIND = "end"


def action_targets(action: dict[str, Any]) -> list[str]:
    """Stage ids an action leads to (a list forks parallel branches)."""
    to = action.get("to")
    if to is None:
        return []
    return [str(t) for t in to] if isinstance(to, list) else [str(to)]


def stage_targets(stage: dict[str, Any]) -> list[str]:
    """Every stage a stage can lead to: its actions' targets and its timer's expiry."""
    targets: list[str] = []
    for action in (stage.get("actions") or {}).values():
        targets.extend(action_targets(action))
    if stage.get("kind") == TIMER_KIND and stage.get("on_expiry"):
        targets.append(str(stage["on_expiry"]))
    return targets
