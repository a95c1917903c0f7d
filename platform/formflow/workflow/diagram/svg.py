"""Small SVG pieces: escaped text and attributes, numbers, polylines, bars, labels, the clock."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr

from formflow.workflow.diagram.graph import Edge, Node
from formflow.workflow.diagram.style import EDGE, INK, LABEL_SIZE
from formflow.workflow.diagram.text import clean, text_width


def esc(value: Any) -> str:
    """Text content, escaped."""
    return escape(clean(value))


def attr(value: Any) -> str:
    """An attribute value, escaped and quoted."""
    return quoteattr(clean(value))


def num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def points_attr(pts: list[tuple[float, float]]) -> str:
    return " ".join(f"{num(x)},{num(y)}" for x, y in pts)


def polyline(pts: list[tuple[float, float]], color: str, *, arrow: bool = True, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="7 4"' if dashed else ""
    marker = ' marker-end="url(#ff-arrow)"' if arrow else ""
    return (
        f'<polyline points="{points_attr(pts)}" fill="none" stroke="{color}" stroke-width="1.4" '
        f'stroke-linejoin="round"{dash}{marker}/>'
    )


def hbar(x1: float, x2: float, y: float) -> str:
    return f'<rect x="{num(x1)}" y="{num(y - 2)}" width="{num(x2 - x1)}" height="4" fill="{EDGE}"/>'


def text_at(x: float, y: float, text: str, color: str = INK, size: float = LABEL_SIZE) -> str:
    return f'<text x="{num(x)}" y="{num(y)}" font-size="{num(size)}" fill="{color}">{esc(text)}</text>'


def label(x: float, y: float, text: str) -> str:
    """An edge label on a white ground, so crossing lines do not hide it."""
    w = text_width(text, LABEL_SIZE) + 6
    return (
        f'<rect x="{num(x - 3)}" y="{num(y - LABEL_SIZE)}" width="{num(w)}" height="{num(LABEL_SIZE + 4)}" '
        f'fill="#ffffff" fill-opacity="0.9"/>' + text_at(x, y, text)
    )


def clock(cx: float, cy: float, color: str) -> str:
    return (
        f'<circle cx="{num(cx)}" cy="{num(cy)}" r="7" fill="#ffffff" stroke="{color}" stroke-width="1.4"/>'
        f'<polyline points="{num(cx)},{num(cy - 4)} {num(cx)},{num(cy)} {num(cx + 3)},{num(cy + 2)}" '
        f'fill="none" stroke="{color}" stroke-width="1.4"/>'
    )


def edge_open(edge: Edge, targets: list[Node]) -> str:
    attrs = (
        f'class="edge{" edge-expiry" if edge.expiry else ""}" data-from={attr(edge.src)} '
        f"data-action={attr(edge.action)} data-to={attr(' '.join(t.id for t in targets))}"
    )
    return f"<g {attrs}><title>{esc(edge.tip)}</title>"
