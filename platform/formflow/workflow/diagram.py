"""A workflow configuration drawn as a standalone SVG flow chart, top to bottom.

`workflow_svg(workflow)` takes a workflow document (the dict of
`workflows/<pack>/<matter>.yaml`, possibly not yet valid) and draws it the way
a service standard's process figure does:

- stages are boxes in layers: a stage's layer is the longest path to it from
  `start` (back edges of cycles ignored), so parallel branches of a fork sit
  side by side in one layer; end stages share the bottom row;
- an action to the next layer is an arrow straight down (forks and joins get a
  bar); any other action (to an end stage further down, or back up) leaves the
  box sideways into a lane on the right, and lanes to end stages drop straight
  onto their end box, so a rejection from any stage is one line, not a tangle;
- a timer's expiry is a dashed arrow; correction actions (the stage stays, the
  clock pauses) are a loop on the box; citizen actions and the marks are
  explained in the legend; the commitment is the caption under the title.

The output uses presentation attributes only (no <style>, no script, no
external resource), so it can be inlined under a strict CSP, and every text
that comes from configuration is XML-escaped. Same input, same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from formflow.text.catalogue import _, lazy
from formflow.workflow.spec import END_KIND, TIMER_KIND, action_targets

# -- texts for people (one place) ------------------------------------------------
LEVEL_TITLES: dict[str, Any] = {
    "province": lazy("Province level"),
    "city": lazy("City level"),
    "district": lazy("District level"),
    "street": lazy("Street level"),
    "community": lazy("Community level"),
}
RESULT_TITLES: dict[str, Any] = {
    "approved": lazy("Closed: approved"),
    "rejected": lazy("Closed: rejected"),
    "not_accepted": lazy("Closed: not accepted"),
    "withdrawn": lazy("Closed: withdrawn by the applicant"),
}
TXT_SUBMIT = lazy("The applicant submits")
TXT_NO_LIMIT = lazy("No time limit of its own (bound by the overall limit)")
TXT_LIMIT = lazy("Time limit %(limit)s")  # % {"limit": …}
TXT_DURATION = lazy("Period %(period)s, moves on when it ends")
TXT_OBJECTIONS = lazy("Objections may be recorded during the period")
TXT_JOIN = lazy("Entered when every parallel branch is done")
TXT_EXPIRY = lazy("When the period ends")
TXT_EXPIRY_OBJECTIONS = lazy("When the period ends with no objection upheld")
TXT_COMMITMENT = lazy("%(title)s: %(period)s (counted from “%(start)s”)")
TXT_COMMITMENT_SUBMIT = lazy("%(title)s: %(period)s (counted from the submission)")
TXT_COMMITMENT_DEFAULT = lazy("Committed time limit")
TXT_CITIZEN = lazy("Applicant's action: %(title)s → %(targets)s (%(where)s)")
TXT_CITIZEN_ANY = lazy("At any stage not yet closed")
TXT_CITIZEN_FROM = lazy("Possible at: %(stages)s")
TXT_NOTICE_TIP = lazy("Issues “%(notice)s”")
TXT_REASON_TIP = lazy("A reason is required")
TXT_EMPTY = lazy("The workflow has no stages")
LEGEND_ACTION = lazy("Action")
LEGEND_EXPIRY = lazy("Moves on when the period ends")
LEGEND_BAR = lazy("Parallel branches / join")
LEGEND_NOTICE = lazy("Issues a document")
LEGEND_REASON = lazy("A reason is required")
LEGEND_LOOP = lazy("In-stage actions such as corrections (same stage, time limit paused)")
LEGEND_REVIEW = lazy("Review stage")
LEGEND_TIMER = lazy("Timed stage")
NOTICE_MARK = "✉"
REASON_MARK = "✎"
LOOP_MARK = "↻"


def period_text(period: Any) -> str:
    """{days: 3, unit: working} → 3个工作日; calendar days → 20日."""
    if not isinstance(period, Mapping) or period.get("days") is None:
        return ""
    days = period.get("days")
    if period.get("unit", "working") == "working":
        return _("%(days)s working days", days=days)
    return _("%(days)s days", days=days)


def level_title(level: Any) -> str:
    return LEVEL_TITLES.get(str(level), str(level or ""))


# -- geometry -----------------------------------------------------------------
MARGIN = 24
LEFT_PAD = 22  # room for correction loops left of the leftmost box
STAGE_W = 280
STAGE_W_MIN = 200
END_W = 164
COL_GAP = 40
ROW_GAP = 62
STUB = 150  # from the node area to the first lane: room for a label
LANE_GAP = 16
END_GAP = 22
MAX_WIDTH = 1200
PAD_X = 12
TITLE_SIZE = 15
INFO_SIZE = 12
LABEL_SIZE = 12
LINE_GAP = 5

INK = "#1f2933"
MUTED = "#52606d"
EDGE = "#334e68"
LOOP = "#b54708"
FILLS = {
    "review": ("#ffffff", "#0b5cad"),
    "timer": ("#fff8e6", "#b54708"),
    "approved": ("#e7f6ec", "#067647"),
    "rejected": ("#fdecea", "#b42318"),
    "not_accepted": ("#fdecea", "#b42318"),
    "withdrawn": ("#f0f2f5", "#667085"),
    "end": ("#f5f7fa", "#52606d"),
}
FONT = "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei','WenQuanYi Micro Hei',sans-serif"

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# Code points (typography, not words): closing marks, full-width then ASCII.
_NO_LINE_START = {chr(c) for c in (
    0xFF0C, 0x3002, 0x3001, 0xFF1B, 0xFF1A, 0xFF01, 0xFF1F, 0xFF09, 0x300B, 0x300D, 0x300F, 0x201D, 0x2019,
    0x002C, 0x002E, 0x003B, 0x003A, 0x0021, 0x003F, 0x0029, 0x005D)}


def _clean(value: Any) -> str:
    return _INVALID_XML.sub("", str(value))


def _t(value: Any) -> str:
    """Text content, escaped."""
    return escape(_clean(value))


def _a(value: Any) -> str:
    """An attribute value, escaped and quoted."""
    return quoteattr(_clean(value))


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def text_width(text: str, size: float) -> float:
    """Estimated advance of `text` at font `size`: CJK and symbols 1em, Latin about 0.6em."""
    return sum(size if ord(ch) >= 0x2000 else size * 0.6 for ch in text)


def _greedy(tokens: list[str], size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for tok in tokens:
        if current and text_width(current + tok, size) > width and tok[0] not in _NO_LINE_START:
            lines.append(current)
            current = tok.lstrip()
        else:
            current += tok
    if current or not lines:
        lines.append(current)
    return lines


def wrap(text: str, size: float, width: float, keep: str = "") -> list[str]:
    """Wrap by estimated width into as few, evenly long lines as fit; closing punctuation
    never starts a line. `keep` is a suffix that is never split."""
    tokens = list(_clean(text)) + ([_clean(keep)] if keep else [])
    lines = _greedy(tokens, size, width)
    if len(lines) > 1:
        target = text_width("".join(tokens), size) / len(lines)
        while target < width:
            trial = _greedy(tokens, size, target)
            if len(trial) <= len(lines):
                return trial
            target += size / 2
    return lines


# -- model --------------------------------------------------------------------
@dataclass
class _Line:
    text: str
    size: float
    color: str = INK
    bold: bool = False


@dataclass
class _Node:
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
    lines: list[_Line] = field(default_factory=list)
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
class _Edge:
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


class _Diagram:
    def __init__(self, workflow: Mapping[str, Any], roles: Mapping[str, Any] | None) -> None:
        self.wf = workflow
        self.roles = _role_titles(workflow, roles)
        stages = _stages(workflow)
        self.nodes: dict[str, _Node] = {}
        for order, (sid, raw) in enumerate(stages.items()):
            kind = str(raw.get("kind") or "review")
            self.nodes[sid] = _Node(sid, raw, order, kind, str(raw.get("title") or sid))
        start = workflow.get("start")
        self.start = str(start) if str(start) in self.nodes else next(iter(self.nodes), "")
        self.edges: list[_Edge] = []
        self._collect_edges()

    # -- edges ------------------------------------------------------------------
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
                    _Edge(node.id, str(aid), title, targets, notice=action.get("notice"),
                          reason=action.get("reason") == "required", tip=_("; ").join(tip))
                )  # fmt: skip
            expiry = node.raw.get("on_expiry")
            if node.kind == TIMER_KIND and expiry is not None and str(expiry) in self.nodes:
                label = TXT_EXPIRY_OBJECTIONS if node.raw.get("objections") else TXT_EXPIRY
                expiry_tip = f"{node.title} —{label}→ {self.nodes[str(expiry)].title}"
                self.edges.append(_Edge(node.id, "on_expiry", str(label), [str(expiry)], expiry=True, tip=expiry_tip))

    # -- layers -----------------------------------------------------------------
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

    # -- box contents -----------------------------------------------------------
    def _contents(self, node: _Node, width: float) -> None:
        room = width - 2 * PAD_X
        lines = [_Line(t, TITLE_SIZE, INK, True) for t in wrap(node.title, TITLE_SIZE, room)]
        raw = node.raw
        if not node.is_end:
            owner = raw.get("owner") if isinstance(raw.get("owner"), Mapping) else None
            if owner:
                role = str(owner.get("role", ""))
                level = f" · {level_title(owner.get('level'))}"
                lines += [_Line(t, INFO_SIZE, MUTED) for t in wrap(self.roles.get(role, role), INFO_SIZE, room, level)]
            if node.kind == TIMER_KIND:
                text = TXT_DURATION % {"period": period_text(raw.get("duration")) or "—"}
                lines += [_Line(t, INFO_SIZE, LOOP) for t in wrap(text, INFO_SIZE, room - 18)]
                if raw.get("objections"):
                    lines.append(_Line(str(TXT_OBJECTIONS), INFO_SIZE, MUTED))
            else:
                limit = period_text(raw.get("time_limit"))
                text = TXT_LIMIT % {"limit": limit} if limit else str(TXT_NO_LIMIT)
                lines += [_Line(t, INFO_SIZE, INK if limit else MUTED) for t in wrap(text, INFO_SIZE, room)]
            if raw.get("join"):
                lines.append(_Line(str(TXT_JOIN), INFO_SIZE, MUTED))
            for loop in node.loops:
                lines += [_Line(t, INFO_SIZE, LOOP) for t in wrap(f"{LOOP_MARK} {loop}", INFO_SIZE, room)]
        else:
            result = str(raw.get("result") or "")
            if result in RESULT_TITLES:
                lines.append(_Line(RESULT_TITLES[result], INFO_SIZE, MUTED))
        node.lines = lines
        node.w = width
        node.h = 10 + sum(line.size + LINE_GAP for line in lines) + 8

    # -- layout -----------------------------------------------------------------
    def layout(self) -> None:
        self._layers()
        rows: dict[int, list[_Node]] = {}
        for node in self.nodes.values():
            if not node.is_end:
                rows.setdefault(node.layer, []).append(node)
        widest = max((len(r) for r in rows.values()), default=1)
        # room left for the node area once lanes and their end boxes are on the right
        targeted = {t for e in self.edges for t in e.targets if self.nodes[t].is_end}
        end_lanes = max(len(targeted) - 1, 1)
        budget = MAX_WIDTH - 2 * MARGIN - LEFT_PAD - STUB - (end_lanes - 1) * (END_W + END_GAP) - END_W / 2
        stage_w = max(STAGE_W_MIN, min(STAGE_W, (budget - (widest - 1) * COL_GAP) / widest))
        for node in self.nodes.values():
            self._contents(node, END_W if node.is_end else stage_w)
        mention: dict[str, int] = {}
        for edge in self.edges:
            for t in edge.targets:
                mention.setdefault(t, len(mention))
        self.area_left = MARGIN + LEFT_PAD
        self.area_w = widest * stage_w + (widest - 1) * COL_GAP
        center = self.area_left + self.area_w / 2
        self.top = 112.0
        y = self.top
        self.rows: list[list[_Node]] = []
        preds: dict[str, list[str]] = {}
        for edge in self.edges:
            for t in edge.targets:
                if (edge.src, t) not in self.back:
                    preds.setdefault(t, []).append(edge.src)
        for index in sorted(rows):
            row = rows[index]

            def key(n: _Node) -> tuple[float, int, int]:
                placed = [self.nodes[p].cx for p in preds.get(n.id, []) if self.nodes[p].layer < n.layer]
                bary = sum(placed) / len(placed) if placed else 1e9
                return (round(bary, 3), mention.get(n.id, 10**6), n.order)

            row.sort(key=key)
            height = max(n.h for n in row)
            width = len(row) * stage_w + (len(row) - 1) * COL_GAP
            x = center - width / 2
            for n in row:
                n.x, n.y, n.h = x, y, height
                x += stage_w + COL_GAP
            self.rows.append(row)
            y += height + ROW_GAP
        self.area_right = self.area_left + self.area_w
        self._route(y)

    def _route(self, end_top: float) -> None:
        """Decide which edges are drawn straight down and which use lanes; place the end row."""
        ends = [n for n in self.nodes.values() if n.is_end]
        last_row = self.rows[-1] if self.rows else []
        self.straight: dict[str, str] = {}  # end id → the source right above it
        for src in last_row:
            wanted = [t for e in self.edges if e.src == src.id for t in e.targets if self.nodes[t].is_end]
            wanted = sorted(dict.fromkeys(wanted), key=lambda t: self.nodes[t].raw.get("result") != "approved")
            for t in wanted:
                if t not in self.straight:
                    self.straight[t] = src.id
                    break
        # classify every (edge, target)
        self.direct: list[tuple[_Edge, str]] = []
        self.laned: list[tuple[_Edge, str]] = []
        for edge in self.edges:
            src = self.nodes[edge.src]
            for t in edge.targets:
                node = self.nodes[t]
                if node.is_end:
                    ok = self.straight.get(t) == edge.src
                else:
                    ok = (edge.src, t) not in self.back and node.layer == src.layer + 1
                (self.direct if ok else self.laned).append((edge, t))
        # lanes: to stages (innermost), to straight ends (bus), then to end boxes (outermost)
        lane_targets = list(dict.fromkeys(t for _, t in self.laned))
        inner = [t for t in lane_targets if not self.nodes[t].is_end]
        bus = [t for t in lane_targets if self.nodes[t].is_end and t in self.straight]

        def top_layer(t: str) -> int:
            return min(self.nodes[e.src].layer for e, tt in self.laned if tt == t)

        outer = [t for t in lane_targets if self.nodes[t].is_end and t not in self.straight]
        outer.sort(key=lambda t: (-top_layer(t), self.nodes[t].order))
        self.lane_x: dict[str, float] = {}
        x = self.area_right + STUB
        for t in inner + bus:
            self.lane_x[t] = x
            x += LANE_GAP
        first = x + (END_GAP if inner or bus else 0)
        first = max(first, self.area_right + STUB)
        for i, t in enumerate(outer):
            self.lane_x[t] = first + i * (END_W + END_GAP)
        self.bus = bus
        # end row
        end_h = max((n.h for n in ends), default=0)
        placed: list[_Node] = []
        for n in ends:
            n.y, n.h = end_top, end_h
            if n.id in self.straight:
                n.x = self.nodes[self.straight[n.id]].cx - n.w / 2
                placed.append(n)
            elif n.id in self.lane_x:
                n.x = self.lane_x[n.id] - n.w / 2
                placed.append(n)
        for n in ends:
            if n in placed:
                continue
            n.x = self._free_slot(placed, n.w)
            placed.append(n)
        self.end_top = end_top
        self.end_bottom = end_top + end_h if ends else end_top - ROW_GAP

    def _free_slot(self, placed: list[_Node], width: float) -> float:
        x: float = self.area_left
        for other in sorted(placed, key=lambda n: n.x):
            if x + width + END_GAP <= other.x:
                return x
            x = max(x, other.right + END_GAP)
        return x

    # -- drawing ----------------------------------------------------------------
    def render(self) -> str:
        self.layout()
        out: list[str] = []
        body = self._draw_edges() + self._draw_nodes()
        right = max(
            [n.right for n in self.nodes.values()] + [x + 4 for x in self.lane_x.values()] + [self.area_right + 40]
        )
        title = str(self.wf.get("title") or self.wf.get("id") or "")
        caption = self._caption()
        head_w = max(text_width(title, 18), text_width(caption, 13)) + 2 * MARGIN
        width = max(right + MARGIN, head_w)
        legend, legend_h = self._legend(self.end_bottom + 40, width)
        height = self.end_bottom + 40 + legend_h + MARGIN
        out.append(
            f'<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram" width="{_n(width)}" '
            f'height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" font-family={_a(FONT)} '
            f'role="img" aria-label={_a(title)} data-workflow={_a(self.wf.get("id") or "")}>'
        )
        out.append(f"<title>{_t(title)}</title>")
        out.append(self._defs())
        out.append(f'<rect x="0" y="0" width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>')
        out.append(f'<text x="{MARGIN}" y="36" font-size="18" font-weight="bold" fill="{INK}">{_t(title)}</text>')
        if caption:
            out.append(
                f'<text class="commitment" x="{MARGIN}" y="60" font-size="13" fill="{MUTED}">{_t(caption)}</text>'
            )
        out.extend(self._draw_start())
        out.extend(body)
        out.extend(legend)
        out.append("</svg>")
        return "\n".join(out) + "\n"

    def _caption(self) -> str:
        commitment = self.wf.get("commitment")
        if not isinstance(commitment, Mapping) or commitment.get("days") is None:
            return ""
        title = str(commitment.get("title") or TXT_COMMITMENT_DEFAULT)
        period = period_text(commitment)
        starts = commitment.get("starts_on")
        if starts:
            for node in self.nodes.values():
                actions = node.raw.get("actions")
                if isinstance(actions, Mapping) and isinstance(actions.get(starts), Mapping):
                    start = actions[starts].get("title") or starts
                    return TXT_COMMITMENT % {"title": title, "period": period, "start": start}
            return TXT_COMMITMENT % {"title": title, "period": period, "start": starts}
        return TXT_COMMITMENT_SUBMIT % {"title": title, "period": period}

    @staticmethod
    def _defs() -> str:
        return (
            "<defs>"
            '<marker id="ff-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
            f'markerHeight="8" orient="auto-start-reverse"><path d="M0,1 L10,5 L0,9 z" fill="{EDGE}"/></marker>'
            '<marker id="ff-arrow-loop" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0,1 L10,5 L0,9 z" fill="{LOOP}"/></marker>'
            "</defs>"
        )

    def _draw_start(self) -> list[str]:
        node = self.nodes.get(self.start)
        if node is None:
            return []
        cy = node.y - 40
        return [
            f'<g class="start" data-start={_a(node.id)}>',
            f'<circle cx="{_n(node.cx)}" cy="{_n(cy)}" r="7" fill="{EDGE}"/>',
            _path([(node.cx, cy + 7), (node.cx, node.y)], EDGE),
            _label(node.cx + 8, cy + 22, str(TXT_SUBMIT)),
            "</g>",
        ]

    def _draw_nodes(self) -> list[str]:
        out: list[str] = []
        for node in sorted(self.nodes.values(), key=lambda n: (n.layer, n.x)):
            result = str(node.raw.get("result") or "")
            if node.is_end:
                fill, stroke = FILLS.get(result, FILLS["end"])
            else:
                fill, stroke = FILLS["timer" if node.kind == TIMER_KIND else "review"]
            out.append(
                f'<g class="stage stage-{_t(node.kind)}" data-stage={_a(node.id)} data-kind={_a(node.kind)} '
                f'data-layer="{node.layer}" data-x="{_n(node.x)}" data-y="{_n(node.y)}"'
                + (f" data-result={_a(result)}" if node.is_end else "")
                + ">"
            )
            out.append(f"<title>{_t(node.title)}</title>")
            x, y, w, h = node.x, node.y, node.w, node.h
            if node.is_end:
                out.append(
                    f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" rx="{_n(min(22, h / 2))}" '
                    f'fill="{fill}" stroke="{stroke}" stroke-width="2"/>'
                )
            elif node.kind == TIMER_KIND:
                c = 12
                pts = [(x + c, y), (x + w - c, y), (x + w, y + c), (x + w, y + h - c), (x + w - c, y + h),
                       (x + c, y + h), (x, y + h - c), (x, y + c)]  # fmt: skip
                out.append(
                    f'<polygon points="{" ".join(f"{_n(a)},{_n(b)}" for a, b in pts)}" fill="{fill}" '
                    f'stroke="{stroke}" stroke-width="1.6" stroke-dasharray="6 3"/>'
                )
                out.append(_clock(x + w - 18, y + 18, stroke))
            else:
                out.append(
                    f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" rx="4" '
                    f'fill="{fill}" stroke="{stroke}" stroke-width="1.6"/>'
                )
            if node.id == self.start and not node.is_end:
                out.append(
                    f'<rect x="{_n(x + 3)}" y="{_n(y + 3)}" width="{_n(w - 6)}" height="{_n(h - 6)}" rx="3" '
                    f'fill="none" stroke="{stroke}" stroke-width="0.8"/>'
                )
            total = sum(line.size + LINE_GAP for line in node.lines) - LINE_GAP
            ty = y + (h - total) / 2
            loop_y: float | None = None
            for line in node.lines:
                ty += line.size
                weight = ' font-weight="bold"' if line.bold else ""
                out.append(
                    f'<text x="{_n(node.cx)}" y="{_n(ty - 2)}" font-size="{_n(line.size)}" fill="{line.color}" '
                    f'text-anchor="middle"{weight}>{_t(line.text)}</text>'
                )
                if line.text.startswith(LOOP_MARK) and loop_y is None:
                    loop_y = ty - line.size / 2 - 2
                ty += LINE_GAP
            if node.loops and loop_y is not None:
                y1, y2 = loop_y - 7, loop_y + 7
                out.append(
                    f'<path class="loop" d="M{_n(x)},{_n(y1)} C{_n(x - 22)},{_n(y1 - 6)} {_n(x - 22)},{_n(y2 + 6)} '
                    f'{_n(x)},{_n(y2)}" fill="none" stroke="{LOOP}" stroke-width="1.3" '
                    'marker-end="url(#ff-arrow-loop)"/>'
                )
            out.append("</g>")
        return out

    def _draw_edges(self) -> list[str]:
        out: list[str] = []
        out += self._draw_direct()
        out += self._draw_lanes()
        return out

    def _draw_direct(self) -> list[str]:
        out: list[str] = []
        by_src: dict[str, list[_Edge]] = {}
        for edge, _target in self.direct:
            by_src.setdefault(edge.src, [])
            if edge not in by_src[edge.src]:
                by_src[edge.src].append(edge)
        joins: dict[str, list[float]] = {}
        for src_id, edges in by_src.items():
            src = self.nodes[src_id]
            for i, edge in enumerate(edges):
                ex = src.cx if len(edges) == 1 else src.x + src.w * (i + 1) / (len(edges) + 1)
                targets = [self.nodes[t] for e, t in self.direct if e is edge]
                sb = src.bottom
                out.append(_edge_open(edge, targets))
                color = EDGE
                dash = edge.expiry
                if len(targets) > 1:  # a fork: one stem, a bar, one drop per branch
                    fy = sb + ROW_GAP * 0.45
                    out.append(_path([(ex, sb), (ex, fy)], color, arrow=False, dashed=dash))
                    xs = [t.cx for t in targets] + [ex]
                    out.append(_bar(min(xs) - 6, max(xs) + 6, fy))
                    for t in targets:
                        out.append(_path([(t.cx, fy + 2), (t.cx, self._entry_y(t))], color, dashed=dash))
                        joins_target = self._join_target(t)
                        if joins_target:
                            joins.setdefault(t.id, []).append(t.cx)
                    out.append(_label(ex + 8, sb + 16, edge.label))
                else:
                    t = targets[0]
                    ty = self._entry_y(t)
                    if self._join_target(t):
                        joins.setdefault(t.id, []).append(ex)
                        out.append(_path([(ex, sb), (ex, ty)], color, arrow=False, dashed=dash))
                        out.append(_label(ex + 8, sb + 18, edge.label))
                    elif abs(ex - t.cx) < 0.5:
                        out.append(_path([(ex, sb), (ex, ty)], color, dashed=dash))
                        out.append(_label(ex + 8, sb + ROW_GAP / 2 + 4, edge.label))
                    else:
                        my = sb + ROW_GAP * 0.5
                        out.append(_path([(ex, sb), (ex, my), (t.cx, my), (t.cx, ty)], color, dashed=dash))
                        out.append(_label(ex + 8, sb + 18, edge.label))
                out.append("</g>")
        for tid, xs in joins.items():
            t = self.nodes[tid]
            jy = t.y - ROW_GAP * 0.3
            xs = xs + [t.cx]
            out.append(f'<g class="join" data-join={_a(tid)}>')
            out.append(_bar(min(xs) - 6, max(xs) + 6, jy))
            out.append(_path([(t.cx, jy + 2), (t.cx, t.y)], EDGE))
            out.append("</g>")
        return out

    def _join_target(self, t: _Node) -> bool:
        """Several direct arrows arrive at `t` from different stages: draw a join bar."""
        sources = {e.src for e, tt in self.direct if tt == t.id}
        return len(sources) > 1 and not t.is_end

    def _entry_y(self, t: _Node) -> float:
        return t.y - ROW_GAP * 0.3 if self._join_target(t) else t.y

    def _draw_lanes(self) -> list[str]:
        out: list[str] = []
        exits: dict[str, list[tuple[_Edge, str]]] = {}
        for edge, t in self.laned:
            exits.setdefault(edge.src, []).append((edge, t))
        entering = {
            t for _, t in self.laned if not self.nodes[t].is_end and self.rows[self.nodes[t].layer][-1] is self.nodes[t]
        }
        first_in_lane: dict[str, float] = {}
        junctions: list[tuple[float, float]] = []
        plans: list[tuple[_Edge, str, list[tuple[float, float]], tuple[float, float]]] = []
        for src_id, items in exits.items():
            src = self.nodes[src_id]
            row = self.rows[src.layer] if src.layer < len(self.rows) else [src]
            rightmost = row[-1] is src
            ports = len(items) + (1 if src.id in entering else 0)  # an entry takes the lowest port
            for i, (edge, t) in enumerate(items):
                lx = self.lane_x[t]
                if rightmost:
                    sy = src.y + src.h * (i + 1) / (ports + 1)
                    pts = [(src.right, sy), (lx, sy)]
                    label_at = (src.right + 6, sy - 5)
                else:
                    ex = src.x + src.w * (0.8 + 0.06 * i)
                    sy = src.bottom + 10 + 6 * i
                    pts = [(ex, src.bottom), (ex, sy), (lx, sy)]
                    label_at = (ex + 6, sy + LABEL_SIZE + 3)
                plans.append((edge, t, pts, label_at))
                first_in_lane[t] = min(first_in_lane.get(t, sy), sy)
        for edge, t, pts, label_at in plans:
            node = self.nodes[t]
            lx, sy = pts[-1]
            if sy > first_in_lane[t] and not node.is_end:
                junctions.append((lx, sy))
            elif node.is_end and sy > first_in_lane[t]:
                junctions.append((lx, sy))
            if node.is_end and t not in self.bus:
                pts = pts + [(lx, node.y)]
            elif node.is_end:  # a straight end also reached from further up: along the bottom
                by = node.y - 12 - 6 * self.bus.index(t)
                pts = pts + [(lx, by), (node.x + node.w * 0.75, by), (node.x + node.w * 0.75, node.y)]
            else:
                row = self.rows[node.layer]
                if row[-1] is node:
                    ports = len(exits.get(node.id, [])) + 1
                    cy = node.y + node.h * ports / (ports + 1)
                    pts = pts + [(lx, cy), (node.right, cy)]
                else:
                    ey = node.y - 10
                    pts = pts + [(lx, ey), (node.x + node.w * 0.85, ey), (node.x + node.w * 0.85, node.y)]
            out.append(_edge_open(edge, [node]))
            out.append(_path(pts, EDGE, dashed=edge.expiry))
            out.append(_label(label_at[0], label_at[1], edge.label))
            out.append("</g>")
        for x, y in junctions:
            out.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{EDGE}"/>')
        return out

    # -- legend -----------------------------------------------------------------
    def _legend(self, top: float, width: float) -> tuple[list[str], float]:
        items: list[tuple[float, Callable[[float, float], str]]] = []

        def sample_line(dashed: bool, text: str) -> None:
            def draw(x: float, y: float) -> str:
                return _path([(x, y - 4), (x + 30, y - 4)], EDGE, dashed=dashed) + _text(x + 36, y, text)

            items.append((36 + text_width(text, LABEL_SIZE), draw))

        def sample_text(text: str, color: str = INK) -> None:
            items.append((text_width(text, LABEL_SIZE), lambda x, y: _text(x, y, text, color)))

        def sample_box(fill: str, stroke: str, text: str, rx: float, dashed: bool = False) -> None:
            def draw(x: float, y: float) -> str:
                dash = ' stroke-dasharray="4 2"' if dashed else ""
                return (
                    f'<rect x="{_n(x)}" y="{_n(y - 12)}" width="26" height="16" rx="{_n(rx)}" fill="{fill}" '
                    f'stroke="{stroke}" stroke-width="1.4"{dash}/>' + _text(x + 32, y, text)
                )

            items.append((32 + text_width(text, LABEL_SIZE), draw))

        sample_line(False, str(LEGEND_ACTION))
        if any(e.expiry for e in self.edges):
            sample_line(True, str(LEGEND_EXPIRY))
        if any(len([1 for e, _ in self.direct if e is edge]) > 1 for edge in self.edges) or any(
            self._join_target(n) for n in self.nodes.values()
        ):

            def bar(x: float, y: float) -> str:
                return _bar(x, x + 30, y - 4) + _text(x + 36, y, str(LEGEND_BAR))

            items.append((36 + text_width(str(LEGEND_BAR), LABEL_SIZE), bar))
        sample_text(f"{NOTICE_MARK} {LEGEND_NOTICE}")
        sample_text(f"{REASON_MARK} {LEGEND_REASON}")
        if any(n.loops for n in self.nodes.values()):
            sample_text(f"{LOOP_MARK} {LEGEND_LOOP}", LOOP)
        sample_box(*FILLS["review"], str(LEGEND_REVIEW), 3)
        if any(n.kind == TIMER_KIND for n in self.nodes.values()):
            sample_box(*FILLS["timer"], str(LEGEND_TIMER), 3, dashed=True)
        seen: list[str] = []
        for node in self.nodes.values():
            result = str(node.raw.get("result") or "")
            if node.is_end and result in RESULT_TITLES and result not in seen:
                seen.append(result)
                sample_box(*FILLS[result], RESULT_TITLES[result], 8)
        out: list[str] = ['<g class="legend">']
        x, y = float(MARGIN), top + 14
        for w, draw in items:
            if x > MARGIN and x + w > width - MARGIN:
                x, y = float(MARGIN), y + 26
            out.append(draw(x, y))
            x += w + 28
        citizen = self.wf.get("citizen")
        for cid, action in citizen.items() if isinstance(citizen, Mapping) else []:
            if not isinstance(action, Mapping):
                continue
            targets = _(", ").join(self.nodes[t].title if t in self.nodes else t for t in action_targets(dict(action)))
            source = action.get("from", "any")
            if source == "any" or not isinstance(source, list):
                where = str(TXT_CITIZEN_ANY)
            else:
                where = TXT_CITIZEN_FROM % {
                    "stages": _(", ").join(self.nodes[s].title if s in self.nodes else str(s) for s in source)
                }
            text = TXT_CITIZEN % {"title": action.get("title") or cid, "targets": targets or "—", "where": where}
            for line in wrap(text, 13, width - 2 * MARGIN):
                y += 26
                out.append(
                    f'<text class="citizen-action" data-action={_a(cid)} x="{MARGIN}" y="{_n(y)}" '
                    f'font-size="13" fill="{INK}">{_t(line)}</text>'
                )
        out.append("</g>")
        return out, y - top + 8


# -- small drawing helpers ------------------------------------------------------
def _points(pts: list[tuple[float, float]]) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in pts)


def _path(pts: list[tuple[float, float]], color: str, *, arrow: bool = True, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="7 4"' if dashed else ""
    marker = ' marker-end="url(#ff-arrow)"' if arrow else ""
    return (
        f'<polyline points="{_points(pts)}" fill="none" stroke="{color}" stroke-width="1.4" '
        f'stroke-linejoin="round"{dash}{marker}/>'
    )


def _bar(x1: float, x2: float, y: float) -> str:
    return f'<rect x="{_n(x1)}" y="{_n(y - 2)}" width="{_n(x2 - x1)}" height="4" fill="{EDGE}"/>'


def _text(x: float, y: float, text: str, color: str = INK, size: float = LABEL_SIZE) -> str:
    return f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" fill="{color}">{_t(text)}</text>'


def _label(x: float, y: float, text: str) -> str:
    """An edge label on a white ground, so crossing lines do not hide it."""
    w = text_width(text, LABEL_SIZE) + 6
    return (
        f'<rect x="{_n(x - 3)}" y="{_n(y - LABEL_SIZE)}" width="{_n(w)}" height="{_n(LABEL_SIZE + 4)}" '
        f'fill="#ffffff" fill-opacity="0.9"/>' + _text(x, y, text)
    )


def _clock(cx: float, cy: float, color: str) -> str:
    return (
        f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="7" fill="#ffffff" stroke="{color}" stroke-width="1.4"/>'
        f'<polyline points="{_n(cx)},{_n(cy - 4)} {_n(cx)},{_n(cy)} {_n(cx + 3)},{_n(cy + 2)}" '
        f'fill="none" stroke="{color}" stroke-width="1.4"/>'
    )


def _edge_open(edge: _Edge, targets: list[_Node]) -> str:
    attrs = (
        f'class="edge{" edge-expiry" if edge.expiry else ""}" data-from={_a(edge.src)} '
        f"data-action={_a(edge.action)} data-to={_a(' '.join(t.id for t in targets))}"
    )
    return f"<g {attrs}><title>{_t(edge.tip)}</title>"


def workflow_svg(workflow: dict[str, Any], roles: dict[str, Any] | None = None) -> str:
    """The workflow as a standalone SVG document (text; no XML declaration, so it also inlines).

    `roles` adds or overrides role titles (id → title, or id → {title: …}), e.g.
    the platform's built-in roles.
    """
    if not isinstance(workflow, Mapping):
        workflow = {}
    diagram = _Diagram(workflow, roles)
    if not diagram.nodes:
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram" width="320" height="60" '
            f'viewBox="0 0 320 60"><text x="{MARGIN}" y="36" font-size="14" fill="{MUTED}" '
            f"font-family={_a(FONT)}>{_t(TXT_EMPTY)}</text></svg>\n"
        )
    return diagram.render()
