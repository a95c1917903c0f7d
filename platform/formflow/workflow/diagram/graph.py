"""The workflow document read as a graph: boxes, the ways between them and their layers.

Stages become boxes (`Node`); actions and a timer's expiry become edges, an
action that keeps the stage (a correction) a loop on its box. A stage's layer
is the longest path to it from `start`, back edges of cycles (found by
depth-first search) ignored; end stages share the bottom layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from formflow.text.catalogue import _
from formflow.workflow.diagram.style import INK, STAGE_W
from formflow.workflow.diagram.titles import (
    NOTICE_MARK,
    REASON_MARK,
    TXT_EXPIRY,
    TXT_EXPIRY_OBJECTIONS,
    TXT_NOTICE_TIP,
    TXT_REASON_TIP,
)
from formflow.workflow.spec import END_KIND, LOTTERY_KIND, TIMER_KIND, action_targets


@dataclass
class Line:
    text: str
    size: float
    color: str = INK
    bold: bool = False


@dataclass
class Node:
    id: str
    raw: dict[str, Any]
    order: int
    kind: str
    title: str
    layer: int = 0
    x: float = 0.0
    y: float = 0.0
    w: float = STAGE_W
    h: float = 0.0
    lines: list[Line] = field(default_factory=list)
    loops: list[str] = field(default_factory=list)

    @property
    def is_end(self) -> bool:
        return self.kind == END_KIND

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def right(self) -> float:
        return self.x + self.w


@dataclass
class Edge:
    src: str
    action: str
    title: str
    targets: list[str]
    expiry: bool = False
    notice: str | None = None
    reason: bool = False
    tip: str = ""

    @property
    def label(self) -> str:
        marks = (" " + NOTICE_MARK if self.notice else "") + (" " + REASON_MARK if self.reason else "")
        return self.title + marks


def _stages(workflow: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    stages = workflow.get("stages")
    if not isinstance(stages, Mapping):
        return {}
    return {str(k): (v if isinstance(v, dict) else {}) for k, v in stages.items()}


def _role_titles(workflow: Mapping[str, Any], roles: Mapping[str, Any] | None) -> dict[str, str]:
    titles: dict[str, str] = {}
    for source in (workflow.get("roles"), roles):
        if not isinstance(source, Mapping):
            continue
        for rid, role in source.items():
            title = role.get("title") if isinstance(role, Mapping) else role
            if title:
                titles[str(rid)] = str(title)
    return titles


def _notice_title(workflow: Mapping[str, Any], notice: Any) -> str:
    notices = workflow.get("notices") if isinstance(workflow.get("notices"), Mapping) else {}
    entry = notices.get(notice) if isinstance(notices, Mapping) else None
    return str(entry.get("title", notice)) if isinstance(entry, Mapping) else str(notice)


class Graph:
    """The stages, edges, loops and layers of one workflow document (possibly not yet valid)."""

    def __init__(self, workflow: Mapping[str, Any], roles: Mapping[str, Any] | None) -> None:
        self.wf = workflow
        self.roles = _role_titles(workflow, roles)
        stages = _stages(workflow)
        self.nodes: dict[str, Node] = {}
        for order, (sid, raw) in enumerate(stages.items()):
            kind = str(raw.get("kind") or "review")
            self.nodes[sid] = Node(sid, raw, order, kind, str(raw.get("title") or sid))
        start = workflow.get("start")
        self.start = str(start) if str(start) in self.nodes else next(iter(self.nodes), "")
        self.edges: list[Edge] = []
        self._collect_edges()

    def _collect_edges(self) -> None:
        for node in self.nodes.values():
            if node.is_end:
                continue
            actions = node.raw.get("actions")
            for aid, action in actions.items() if isinstance(actions, Mapping) else []:
                if not isinstance(action, Mapping):
                    continue
                title = str(action.get("title") or aid)
                marks = (" " + NOTICE_MARK if action.get("notice") else "") + (
                    " " + REASON_MARK if action.get("reason") == "required" else ""
                )
                targets = [t for t in action_targets(dict(action)) if t in self.nodes]
                if action.get("correction") or targets == [node.id]:
                    node.loops.append(title + marks)
                    continue
                targets = [t for t in targets if t != node.id]
                if not targets:
                    continue
                tip = [f"{node.title} —{title}→ " + _(", ").join(self.nodes[t].title for t in targets)]
                if action.get("notice"):
                    tip.append(TXT_NOTICE_TIP % {"notice": _notice_title(self.wf, action["notice"])})
                if action.get("reason") == "required":
                    tip.append(str(TXT_REASON_TIP))
                self.edges.append(
                    Edge(node.id, str(aid), title, targets, notice=action.get("notice"),
                          reason=action.get("reason") == "required", tip=_("; ").join(tip))
                )  # fmt: skip
            expiry = node.raw.get("on_expiry")
            if node.kind == TIMER_KIND and expiry is not None and str(expiry) in self.nodes:
                label = TXT_EXPIRY_OBJECTIONS if node.raw.get("objections") else TXT_EXPIRY
                expiry_tip = f"{node.title} —{label}→ {self.nodes[str(expiry)].title}"
                self.edges.append(Edge(node.id, "on_expiry", str(label), [str(expiry)], expiry=True, tip=expiry_tip))
            if node.kind == LOTTERY_KIND:  # moved by the draw: one automatic edge per outcome
                from formflow.workflow.history import EVENT_TITLES

                for key, event in (("on_win", "lottery_won"), ("on_lose", "lottery_lost")):
                    target, drawn = node.raw.get(key), str(EVENT_TITLES[event])
                    if target is not None and str(target) in self.nodes:
                        self.edges.append(Edge(node.id, key, drawn, [str(target)], expiry=True,
                                               tip=f"{node.title} —{drawn}→ {self.nodes[str(target)].title}"))

    def _layers(self) -> None:
        inner = [n for n in self.nodes.values() if not n.is_end]
        succ: dict[str, list[str]] = {n.id: [] for n in inner}
        for edge in self.edges:
            for t in edge.targets:
                if t in succ and t not in succ[edge.src]:
                    succ[edge.src].append(t)
        # back edges: found by depth-first search from start, then from any stage not reached
        back: set[tuple[str, str]] = set()
        state: dict[str, int] = {}
        roots = ([self.start] if self.start in succ else []) + [n.id for n in inner]
        for root in roots:
            if root in state:
                continue
            stack: list[tuple[str, int]] = [(root, 0)]
            state[root] = 1
            while stack:
                sid, i = stack[-1]
                if i < len(succ[sid]):
                    stack[-1] = (sid, i + 1)
                    t = succ[sid][i]
                    if state.get(t) == 1:
                        back.add((sid, t))
                    elif t not in state:
                        state[t] = 1
                        stack.append((t, 0))
                else:
                    state[sid] = 2
                    stack.pop()
        self.back = back
        preds: dict[str, list[str]] = {n.id: [] for n in inner}
        for s, ts in succ.items():
            for t in ts:
                if (s, t) not in back:
                    preds[t].append(s)
        layer: dict[str, int] = {}
        remaining = [n.id for n in inner]
        while remaining:  # Kahn in document order; the graph without back edges is acyclic
            for sid in remaining:
                if all(p in layer for p in preds[sid]):
                    layer[sid] = max((layer[p] + 1 for p in preds[sid]), default=0)
                    remaining.remove(sid)
                    break
            else:  # pragma: no cover - defensive: cannot happen without back edges
                for sid in remaining:
                    layer[sid] = 0
                remaining = []
        for sid, value in layer.items():
            self.nodes[sid].layer = value
        self.end_layer = max(layer.values(), default=-1) + 1
        for node in self.nodes.values():
            if node.is_end:
                node.layer = self.end_layer
