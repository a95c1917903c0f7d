"""Bureau dashboards: applications by stage, category and office; overdue; median days per
stage; waiting-list length — as server-rendered SVG bar charts and as an Excel workbook.

No JavaScript and no inline style (CSP): a chart is an `<svg>` whose shapes
carry presentation attributes only.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from formflow.db.models import Application, Household, Office, StageClock
from formflow.documents.exports import NUMBER, Sheet, xlsx_bytes
from formflow.text.catalogue import _
from formflow.text.formatting import day

COMMITMENT = "*commitment"


@dataclass
class Bar:
    label: str
    value: float
    note: str = ""


@dataclass
class Chart:
    id: str
    title: str
    unit: str
    bars: list[Bar]

    @property
    def total(self) -> float:
        return sum(b.value for b in self.bars)


@dataclass
class Late:
    number: str
    app_id: int
    matter: str
    stage: str
    due_on: date
    done_on: date | None


@dataclass
class Dashboard:
    pack: str
    pack_name: str
    today: date
    charts: list[Chart] = field(default_factory=list)
    late: list[Late] = field(default_factory=list)


def _workflows(pack: Any) -> dict[str, dict[str, Any]]:
    return {mid: (m.workflow.content if m.workflow else {}) or {} for mid, m in pack.matters.items()}


def _category_titles(pack: Any) -> dict[str, str]:
    titles: dict[str, str] = {}
    for matter in pack.matters.values():
        cats = ((matter.materials.content if matter.materials else {}) or {}).get("categories") or {}
        titles.update({k: (v or {}).get("title", k) for k, v in cats.items()})
    return titles


def build(session: Session, pack: Any, *, today: date, waiting: dict[str, int] | None = None,
          matters: list[str] | None = None) -> Dashboard:
    """The dashboard of one pack (optionally only some of its matters)."""
    workflows = _workflows(pack)
    chosen = [m for m in pack.matters if matters is None or m in matters]
    titles = {mid: pack.matters[mid].title for mid in chosen}
    many = len(chosen) > 1
    board = Dashboard(pack.id, pack.name, today)

    def label(matter: str, text: str) -> str:
        return f"{titles[matter]} · {text}" if many else text

    def stage_title(matter: str, stage: str) -> str:
        return str(((workflows.get(matter) or {}).get("stages") or {}).get(stage, {}).get("title", stage))

    base = select(Application).where(Application.pack == pack.id, Application.matter.in_(chosen),
                                     Application.status != "draft")
    apps = list(session.scalars(base))

    by_stage: Counter[tuple[str, str]] = Counter()
    for app in apps:
        if app.status == "active":
            for stage in app.stages or []:
                by_stage[(app.matter, stage)] += 1
    board.charts.append(Chart("by-stage", _("Applications in progress (by stage)"), _("case(s)"), [
        Bar(label(m, stage_title(m, s)), n) for (m, s), n in sorted(by_stage.items())]))

    cats = _category_titles(pack)
    by_cat = Counter(cats.get(a.category or "", a.category or _("Uncategorised")) for a in apps if a.category)
    board.charts.append(Chart("by-category", _("Applications (by category)"), _("case(s)"),
                              [Bar(k, v) for k, v in by_cat.most_common()]))

    office_names = dict(session.execute(select(Office.id, Office.name).where(Office.pack == pack.id)).all())
    by_office = Counter(office_names.get(a.office_id or "", _("Not specified")) for a in apps)
    board.charts.append(Chart("by-office", _("Applications (by accepting office)"), _("case(s)"),
                              [Bar(k, v) for k, v in by_office.most_common()]))

    timers = {(m, sid) for m, wf in workflows.items() for sid, st in (wf.get("stages") or {}).items()
              if (st or {}).get("kind") == "timer"}
    clocks = list(session.execute(
        select(StageClock, Application.matter, Application.number, Application.id)
        .join(Application, Application.id == StageClock.application_id)
        .where(Application.pack == pack.id, Application.matter.in_(chosen))
    ).all())
    overdue_now: Counter[str] = Counter()
    late_done: Counter[str] = Counter()
    durations: dict[tuple[str, str], list[int]] = defaultdict(list)
    seen_now: set[int] = set()
    seen_done: set[int] = set()
    for clock, matter, number, app_id in clocks:
        if (matter, clock.name) in timers:
            continue
        name = _("Commitment time limit") if clock.name == COMMITMENT else stage_title(matter, clock.name)
        if clock.stopped_on is not None and clock.name != COMMITMENT:
            durations[(matter, clock.name)].append((clock.stopped_on - clock.started_on).days)
        if clock.due_on is None:
            continue
        if clock.stopped_on is None and clock.running and clock.due_on < today:
            if app_id not in seen_now:
                overdue_now[matter] += 1
                seen_now.add(app_id)
            board.late.append(Late(number or str(app_id), app_id, titles[matter], name, clock.due_on, None))
        elif clock.stopped_on is not None and clock.stopped_on > clock.due_on:
            if app_id not in seen_done:
                late_done[matter] += 1
                seen_done.add(app_id)
            board.late.append(Late(number or str(app_id), app_id, titles[matter], name, clock.due_on,
                                   clock.stopped_on))
    board.late.sort(key=lambda x: (x.done_on is not None, x.due_on))
    bars = []
    for m in chosen:
        if overdue_now[m] or late_done[m]:
            bars.append(Bar(_("%(matter)s · overdue, in progress", matter=titles[m]), overdue_now[m]))
            bars.append(Bar(_("%(matter)s · finished late", matter=titles[m]), late_done[m]))
    board.charts.append(Chart("overdue", _("Number of overdue cases"), _("case(s)"), bars))
    board.charts.append(Chart("median-days", _("Median days per stage (finished stages, calendar days)"), _("day(s)"), [
        Bar(label(m, stage_title(m, s)), float(statistics.median(v)), _("%(n)s case(s)", n=len(v)))
        for (m, s), v in sorted(durations.items())]))
    if waiting:
        board.charts.append(Chart("waiting", _("Households on the waiting list"), _("household(s)"),
                                  [Bar(k, v) for k, v in waiting.items()]))
    return board


def waiting_counts(session: Session, allocs: list[Any]) -> dict[str, int]:
    out = {}
    for alloc in allocs:
        mode = alloc.lottery_mode
        if mode is None:
            continue
        n = session.scalar(select(func.count(Household.id)).where(
            Household.pack == alloc.pack, Household.matter == alloc.matter, Household.mode == mode,
            Household.status == "waiting"))
        out[str(alloc.waiting_list.get("title") or alloc.matter_title)] = int(n or 0)
    return out


# --------------------------------------------------------------------------- SVG

WIDTH, LABEL_W, ROW_H, TOP = 720, 260, 26, 8
BAR_COLOUR, TEXT_COLOUR, GRID_COLOUR = "#1d4ed8", "#1f2937", "#e5e7eb"


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def svg(chart: Chart) -> Markup:
    """A horizontal bar chart; labels and values are text in the SVG (readable without colour)."""
    if not chart.bars:
        return Markup(f'<p class="muted" id="chart-{escape(chart.id)}-empty">{escape(_("No data yet"))}</p>')
    height = TOP * 2 + ROW_H * len(chart.bars)
    top = max(b.value for b in chart.bars) or 1
    span = WIDTH - LABEL_W - 90
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="chart-{escape(chart.id)}" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" aria-labelledby="chart-{escape(chart.id)}-title">',
        f'<title id="chart-{escape(chart.id)}-title">{escape(chart.title)}</title>',
        f'<line x1="{LABEL_W}" y1="{TOP}" x2="{LABEL_W}" y2="{height - TOP}" stroke="{GRID_COLOUR}"/>',
    ]
    for i, bar in enumerate(chart.bars):
        y = TOP + i * ROW_H
        w = 0 if bar.value <= 0 else max(2, round(span * bar.value / top))
        label = bar.label if len(bar.label) <= 22 else bar.label[:21] + "…"
        value = _("%(value)s %(unit)s", value=_fmt(bar.value), unit=chart.unit)
        tip = _("%(label)s: %(value)s", label=bar.label, value=value)
        if bar.note:
            tip += _(" (%(note)s)", note=bar.note)
        parts.append(
            f'<g class="bar"><title>{escape(tip)}</title>'
            f'<text x="{LABEL_W - 8}" y="{y + 17}" text-anchor="end" font-size="13" fill="{TEXT_COLOUR}">'
            f'{escape(label)}</text>'
            f'<rect x="{LABEL_W}" y="{y + 4}" width="{w}" height="{ROW_H - 8}" rx="3" fill="{BAR_COLOUR}"/>'
            f'<text x="{LABEL_W + w + 6}" y="{y + 17}" font-size="13" fill="{TEXT_COLOUR}">'
            f'{escape(value)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


_NOT_SUMMED = {"median-days"}  # charts whose bars are not counts: no total row


def workbook(board: Dashboard) -> bytes:
    sheets = [Sheet(chart.title[:31], [_("Item"), _("Value (%(unit)s)", unit=chart.unit), _("Note")],
                    [[b.label, b.value, b.note] for b in chart.bars], title=f"{board.pack_name} {chart.title}",
                    widths={0: 40, 1: 16, 2: 40}, formats={1: NUMBER},
                    footer=[[_("Total"), sum(b.value for b in chart.bars), ""]] if chart.id not in _NOT_SUMMED else [])
              for chart in board.charts]
    sheets.append(Sheet(_("Overdue cases"), [_("Application number"), _("Matter"), _("Stage / time limit"),
                                             _("Due on"), _("Done on")],
                        [[x.number, x.matter, x.stage, day(x.due_on),
                          day(x.done_on) if x.done_on else _("In progress (not done)")] for x in board.late],
                        title=_("%(pack)s overdue cases (as of %(day)s)", pack=board.pack_name,
                                day=day(board.today))))
    return xlsx_bytes(sheets)
