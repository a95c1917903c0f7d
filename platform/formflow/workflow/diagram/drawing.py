"""The laid-out workflow drawn as one standalone SVG document (`workflow_svg`).

Presentation attributes only (no <style>, no script, no external resource),
every text from configuration XML-escaped; same input, same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from formflow.text.catalogue import _
from formflow.workflow.diagram.graph import Edge, Node
from formflow.workflow.diagram.layout import Layout
from formflow.workflow.diagram.style import EDGE, FILLS, FONT, INK, LABEL_SIZE, LINE_GAP, LOOP, MARGIN, MUTED, ROW_GAP
from formflow.workflow.diagram.svg import attr, clock, edge_open, esc, hbar, label, num, polyline, text_at
from formflow.workflow.diagram.text import text_width, wrap
from formflow.workflow.diagram.titles import (
    LEGEND_ACTION,
    LEGEND_BAR,
    LEGEND_EXPIRY,
    LEGEND_LOOP,
    LEGEND_NOTICE,
    LEGEND_REASON,
    LEGEND_REVIEW,
    LEGEND_TIMER,
    LOOP_MARK,
    NOTICE_MARK,
    REASON_MARK,
    RESULT_TITLES,
    TXT_CITIZEN,
    TXT_CITIZEN_ANY,
    TXT_CITIZEN_FROM,
    TXT_COMMITMENT,
    TXT_COMMITMENT_DEFAULT,
    TXT_COMMITMENT_SUBMIT,
    TXT_EMPTY,
    TXT_SUBMIT,
    period_text,
)
from formflow.workflow.spec import TIMER_KIND, action_targets


class Drawing(Layout):
    """A laid-out workflow drawn: frame, title and caption, start, boxes, arrows, the legend."""

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
            f'<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram" width="{num(width)}" '
            f'height="{num(height)}" viewBox="0 0 {num(width)} {num(height)}" font-family={attr(FONT)} '
            f'role="img" aria-label={attr(title)} data-workflow={attr(self.wf.get("id") or "")}>'
        )
        out.append(f"<title>{esc(title)}</title>")
        out.append(self._defs())
        out.append(f'<rect x="0" y="0" width="{num(width)}" height="{num(height)}" fill="#ffffff"/>')
        out.append(f'<text x="{MARGIN}" y="36" font-size="18" font-weight="bold" fill="{INK}">{esc(title)}</text>')
        if caption:
            out.append(
                f'<text class="commitment" x="{MARGIN}" y="60" font-size="13" fill="{MUTED}">{esc(caption)}</text>'
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
            f'<g class="start" data-start={attr(node.id)}>',
            f'<circle cx="{num(node.cx)}" cy="{num(cy)}" r="7" fill="{EDGE}"/>',
            polyline([(node.cx, cy + 7), (node.cx, node.y)], EDGE),
            label(node.cx + 8, cy + 22, str(TXT_SUBMIT)),
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
                f'<g class="stage stage-{esc(node.kind)}" data-stage={attr(node.id)} data-kind={attr(node.kind)} '
                f'data-layer="{node.layer}" data-x="{num(node.x)}" data-y="{num(node.y)}"'
                + (f" data-result={attr(result)}" if node.is_end else "")
                + ">"
            )
            out.append(f"<title>{esc(node.title)}</title>")
            x, y, w, h = node.x, node.y, node.w, node.h
            if node.is_end:
                out.append(
                    f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" rx="{num(min(22, h / 2))}" '
                    f'fill="{fill}" stroke="{stroke}" stroke-width="2"/>'
                )
            elif node.kind == TIMER_KIND:
                c = 12
                pts = [(x + c, y), (x + w - c, y), (x + w, y + c), (x + w, y + h - c), (x + w - c, y + h),
                       (x + c, y + h), (x, y + h - c), (x, y + c)]  # fmt: skip
                out.append(
                    f'<polygon points="{" ".join(f"{num(a)},{num(b)}" for a, b in pts)}" fill="{fill}" '
                    f'stroke="{stroke}" stroke-width="1.6" stroke-dasharray="6 3"/>'
                )
                out.append(clock(x + w - 18, y + 18, stroke))
            else:
                out.append(
                    f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" rx="4" '
                    f'fill="{fill}" stroke="{stroke}" stroke-width="1.6"/>'
                )
            if node.id == self.start and not node.is_end:
                out.append(
                    f'<rect x="{num(x + 3)}" y="{num(y + 3)}" width="{num(w - 6)}" height="{num(h - 6)}" rx="3" '
                    f'fill="none" stroke="{stroke}" stroke-width="0.8"/>'
                )
            total = sum(line.size + LINE_GAP for line in node.lines) - LINE_GAP
            ty = y + (h - total) / 2
            loop_y: float | None = None
            for line in node.lines:
                ty += line.size
                weight = ' font-weight="bold"' if line.bold else ""
                out.append(
                    f'<text x="{num(node.cx)}" y="{num(ty - 2)}" font-size="{num(line.size)}" fill="{line.color}" '
                    f'text-anchor="middle"{weight}>{esc(line.text)}</text>'
                )
                if line.text.startswith(LOOP_MARK) and loop_y is None:
                    loop_y = ty - line.size / 2 - 2
                ty += LINE_GAP
            if node.loops and loop_y is not None:
                y1, y2 = loop_y - 7, loop_y + 7
                out.append(
                    f'<path class="loop" d="M{num(x)},{num(y1)} C{num(x - 22)},{num(y1 - 6)} '
                    f'{num(x - 22)},{num(y2 + 6)} {num(x)},{num(y2)}" fill="none" stroke="{LOOP}" stroke-width="1.3" '
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
        by_src: dict[str, list[Edge]] = {}
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
                out.append(edge_open(edge, targets))
                color = EDGE
                dash = edge.expiry
                if len(targets) > 1:  # a fork: one stem, a bar, one drop per branch
                    fy = sb + ROW_GAP * 0.45
                    out.append(polyline([(ex, sb), (ex, fy)], color, arrow=False, dashed=dash))
                    xs = [t.cx for t in targets] + [ex]
                    out.append(hbar(min(xs) - 6, max(xs) + 6, fy))
                    for t in targets:
                        out.append(polyline([(t.cx, fy + 2), (t.cx, self._entry_y(t))], color, dashed=dash))
                        joins_target = self._join_target(t)
                        if joins_target:
                            joins.setdefault(t.id, []).append(t.cx)
                    out.append(label(ex + 8, sb + 16, edge.label))
                else:
                    t = targets[0]
                    ty = self._entry_y(t)
                    if self._join_target(t):
                        joins.setdefault(t.id, []).append(ex)
                        out.append(polyline([(ex, sb), (ex, ty)], color, arrow=False, dashed=dash))
                        out.append(label(ex + 8, sb + 18, edge.label))
                    elif abs(ex - t.cx) < 0.5:
                        out.append(polyline([(ex, sb), (ex, ty)], color, dashed=dash))
                        out.append(label(ex + 8, sb + ROW_GAP / 2 + 4, edge.label))
                    else:
                        my = sb + ROW_GAP * 0.5
                        out.append(polyline([(ex, sb), (ex, my), (t.cx, my), (t.cx, ty)], color, dashed=dash))
                        out.append(label(ex + 8, sb + 18, edge.label))
                out.append("</g>")
        for tid, xs in joins.items():
            t = self.nodes[tid]
            jy = t.y - ROW_GAP * 0.3
            xs = xs + [t.cx]
            out.append(f'<g class="join" data-join={attr(tid)}>')
            out.append(hbar(min(xs) - 6, max(xs) + 6, jy))
            out.append(polyline([(t.cx, jy + 2), (t.cx, t.y)], EDGE))
            out.append("</g>")
        return out

    def _entry_y(self, t: Node) -> float:
        return t.y - ROW_GAP * 0.3 if self._join_target(t) else t.y

    def _draw_lanes(self) -> list[str]:
        out: list[str] = []
        exits: dict[str, list[tuple[Edge, str]]] = {}
        for edge, t in self.laned:
            exits.setdefault(edge.src, []).append((edge, t))
        entering = {
            t for _, t in self.laned if not self.nodes[t].is_end and self.rows[self.nodes[t].layer][-1] is self.nodes[t]
        }
        first_in_lane: dict[str, float] = {}
        junctions: list[tuple[float, float]] = []
        plans: list[tuple[Edge, str, list[tuple[float, float]], tuple[float, float]]] = []
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
            out.append(edge_open(edge, [node]))
            out.append(polyline(pts, EDGE, dashed=edge.expiry))
            out.append(label(label_at[0], label_at[1], edge.label))
            out.append("</g>")
        for x, y in junctions:
            out.append(f'<circle cx="{num(x)}" cy="{num(y)}" r="3" fill="{EDGE}"/>')
        return out

    def _legend(self, top: float, width: float) -> tuple[list[str], float]:
        items: list[tuple[float, Callable[[float, float], str]]] = []

        def sample_line(dashed: bool, text: str) -> None:
            def draw(x: float, y: float) -> str:
                return polyline([(x, y - 4), (x + 30, y - 4)], EDGE, dashed=dashed) + text_at(x + 36, y, text)

            items.append((36 + text_width(text, LABEL_SIZE), draw))

        def sample_text(text: str, color: str = INK) -> None:
            items.append((text_width(text, LABEL_SIZE), lambda x, y: text_at(x, y, text, color)))

        def sample_box(fill: str, stroke: str, text: str, rx: float, dashed: bool = False) -> None:
            def draw(x: float, y: float) -> str:
                dash = ' stroke-dasharray="4 2"' if dashed else ""
                return (
                    f'<rect x="{num(x)}" y="{num(y - 12)}" width="26" height="16" rx="{num(rx)}" fill="{fill}" '
                    f'stroke="{stroke}" stroke-width="1.4"{dash}/>' + text_at(x + 32, y, text)
                )

            items.append((32 + text_width(text, LABEL_SIZE), draw))

        sample_line(False, str(LEGEND_ACTION))
        if any(e.expiry for e in self.edges):
            sample_line(True, str(LEGEND_EXPIRY))
        if any(len([1 for e, _ in self.direct if e is edge]) > 1 for edge in self.edges) or any(
            self._join_target(n) for n in self.nodes.values()
        ):

            def bar(x: float, y: float) -> str:
                return hbar(x, x + 30, y - 4) + text_at(x + 36, y, str(LEGEND_BAR))

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
                    f'<text class="citizen-action" data-action={attr(cid)} x="{MARGIN}" y="{num(y)}" '
                    f'font-size="13" fill="{INK}">{esc(line)}</text>'
                )
        out.append("</g>")
        return out, y - top + 8


def workflow_svg(workflow: dict[str, Any], roles: dict[str, Any] | None = None) -> str:
    """The workflow as a standalone SVG document (text; no XML declaration, so it also inlines).

    `roles` adds or overrides role titles (id → title, or id → {title: …}), e.g.
    the platform's built-in roles.
    """
    if not isinstance(workflow, Mapping):
        workflow = {}
    diagram = Drawing(workflow, roles)
    if not diagram.nodes:
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram" width="320" height="60" '
            f'viewBox="0 0 320 60"><text x="{MARGIN}" y="36" font-size="14" fill="{MUTED}" '
            f"font-family={attr(FONT)}>{esc(TXT_EMPTY)}</text></svg>\n"
        )
    return diagram.render()
