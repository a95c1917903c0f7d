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
from formflow.documents.exports import Sheet, xlsx_bytes

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
    board.charts.append(Chart("by-stage", "办理中的申请（按环节）", "件", [
        Bar(label(m, stage_title(m, s)), n) for (m, s), n in sorted(by_stage.items())]))

    cats = _category_titles(pack)
    by_cat = Counter(cats.get(a.category or "", a.category or "未分类") for a in apps if a.category)
    board.charts.append(Chart("by-category", "申请（按类别）", "件", [Bar(k, v) for k, v in by_cat.most_common()]))

    office_names = dict(session.execute(select(Office.id, Office.name).where(Office.pack == pack.id)).all())
    by_office = Counter(office_names.get(a.office_id or "", "未指定") for a in apps)
    board.charts.append(Chart("by-office", "申请（按受理机构）", "件", [Bar(k, v) for k, v in by_office.most_common()]))

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
        name = "承诺时限" if clock.name == COMMITMENT else stage_title(matter, clock.name)
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
            bars.append(Bar(f"{titles[m]} · 办理中超期", overdue_now[m]))
            bars.append(Bar(f"{titles[m]} · 超期办结", late_done[m]))
    board.charts.append(Chart("overdue", "超期件数", "件", bars))
    board.charts.append(Chart("median-days", "各环节办理天数中位数（已办结环节，自然日）", "天", [
        Bar(label(m, stage_title(m, s)), float(statistics.median(v)), f"{len(v)} 件")
        for (m, s), v in sorted(durations.items())]))
    if waiting:
        board.charts.append(Chart("waiting", "轮候登记册在册家庭", "户", [Bar(k, v) for k, v in waiting.items()]))
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
        return Markup(f'<p class="muted" id="chart-{escape(chart.id)}-empty">暂无数据</p>')
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
        parts.append(
            f'<g class="bar"><title>{escape(bar.label)}：{_fmt(bar.value)}{escape(chart.unit)}'
            f'{("（" + escape(bar.note) + "）") if bar.note else ""}</title>'
            f'<text x="{LABEL_W - 8}" y="{y + 17}" text-anchor="end" font-size="13" fill="{TEXT_COLOUR}">'
            f'{escape(label)}</text>'
            f'<rect x="{LABEL_W}" y="{y + 4}" width="{w}" height="{ROW_H - 8}" rx="3" fill="{BAR_COLOUR}"/>'
            f'<text x="{LABEL_W + w + 6}" y="{y + 17}" font-size="13" fill="{TEXT_COLOUR}">'
            f'{_fmt(bar.value)}{escape(chart.unit)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def workbook(board: Dashboard) -> bytes:
    sheets = [Sheet(chart.title[:31], ["项目", f"数值（{chart.unit}）", "说明"],
                    [[b.label, b.value, b.note] for b in chart.bars], title=f"{board.pack_name} {chart.title}",
                    widths={0: 40})
              for chart in board.charts]
    sheets.append(Sheet("超期件", ["申请编号", "事项", "环节/时限", "应办结日期", "实际办结日期"],
                        [[x.number, x.matter, x.stage, x.due_on.isoformat(),
                          x.done_on.isoformat() if x.done_on else "办理中"] for x in board.late],
                        title=f"{board.pack_name} 超期件（统计日 {board.today.isoformat()}）"))
    return xlsx_bytes(sheets)
