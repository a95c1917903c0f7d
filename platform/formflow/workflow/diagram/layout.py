"""The diagram's layout: what each box says and how big it is, where it sits, how edges run.

Boxes sit in rows by layer, ordered by the barycentre of their predecessors;
an edge to the next layer runs straight down, any other one in a lane on the
right, and lanes to end stages drop onto their end box in the bottom row.
"""

from __future__ import annotations

from collections.abc import Mapping

from formflow.workflow.diagram.graph import Edge, Graph, Line, Node
from formflow.workflow.diagram.style import (
    COL_GAP,
    END_GAP,
    END_W,
    INFO_SIZE,
    INK,
    LANE_GAP,
    LEFT_PAD,
    LINE_GAP,
    LOOP,
    MARGIN,
    MAX_WIDTH,
    MUTED,
    PAD_X,
    ROW_GAP,
    STAGE_W,
    STAGE_W_MIN,
    STUB,
    TITLE_SIZE,
)
from formflow.workflow.diagram.text import wrap
from formflow.workflow.diagram.titles import (
    LOOP_MARK,
    RESULT_TITLES,
    TXT_DURATION,
    TXT_JOIN,
    TXT_LIMIT,
    TXT_NO_LIMIT,
    TXT_OBJECTIONS,
    level_title,
    period_text,
)
from formflow.workflow.spec import TIMER_KIND


class Layout(Graph):
    """A graph with every box sized and placed, and every edge routed straight down or into a lane."""

    def _contents(self, node: Node, width: float) -> None:
        room = width - 2 * PAD_X
        lines = [Line(t, TITLE_SIZE, INK, True) for t in wrap(node.title, TITLE_SIZE, room)]
        raw = node.raw
        if not node.is_end:
            owner = raw.get("owner") if isinstance(raw.get("owner"), Mapping) else None
            if owner:
                role = str(owner.get("role", ""))
                level = f" · {level_title(owner.get('level'))}"
                lines += [Line(t, INFO_SIZE, MUTED) for t in wrap(self.roles.get(role, role), INFO_SIZE, room, level)]
            if node.kind == TIMER_KIND:
                text = TXT_DURATION % {"period": period_text(raw.get("duration")) or "—"}
                lines += [Line(t, INFO_SIZE, LOOP) for t in wrap(text, INFO_SIZE, room - 18)]
                if raw.get("objections"):
                    lines.append(Line(str(TXT_OBJECTIONS), INFO_SIZE, MUTED))
            else:
                limit = period_text(raw.get("time_limit"))
                text = TXT_LIMIT % {"limit": limit} if limit else str(TXT_NO_LIMIT)
                lines += [Line(t, INFO_SIZE, INK if limit else MUTED) for t in wrap(text, INFO_SIZE, room)]
            if raw.get("join"):
                lines.append(Line(str(TXT_JOIN), INFO_SIZE, MUTED))
            for loop in node.loops:
                lines += [Line(t, INFO_SIZE, LOOP) for t in wrap(f"{LOOP_MARK} {loop}", INFO_SIZE, room)]
        else:
            result = str(raw.get("result") or "")
            if result in RESULT_TITLES:
                lines.append(Line(RESULT_TITLES[result], INFO_SIZE, MUTED))
        node.lines = lines
        node.w = width
        node.h = 10 + sum(line.size + LINE_GAP for line in lines) + 8

    def layout(self) -> None:
        self._layers()
        rows: dict[int, list[Node]] = {}
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
        self.rows: list[list[Node]] = []
        preds: dict[str, list[str]] = {}
        for edge in self.edges:
            for t in edge.targets:
                if (edge.src, t) not in self.back:
                    preds.setdefault(t, []).append(edge.src)
        for index in sorted(rows):
            row = rows[index]

            def key(n: Node) -> tuple[float, int, int]:
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
        self.direct: list[tuple[Edge, str]] = []
        self.laned: list[tuple[Edge, str]] = []
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
        placed: list[Node] = []
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

    def _free_slot(self, placed: list[Node], width: float) -> float:
        x: float = self.area_left
        for other in sorted(placed, key=lambda n: n.x):
            if x + width + END_GAP <= other.x:
                return x
            x = max(x, other.right + END_GAP)
        return x

    def _join_target(self, t: Node) -> bool:
        """Several direct arrows arrive at `t` from different stages: draw a join bar."""
        sources = {e.src for e, tt in self.direct if tt == t.id}
        return len(sources) > 1 and not t.is_end
