"""Working-day corrections entered at run time (a typhoon day off, a late State Council notice).

They live in `calendar_overrides` and win over the seed files: first the
national calendar (seed files, each year replaced by an imported year of
`calendar_years` when there is one), then the pack's `calendar.yaml`, then
these rows (for all packs when `pack` is empty, else for that pack).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from formflow.calendars.workdays import WorkCalendar, pack_calendars
from formflow.db.models import CalendarOverride, CalendarYear
from formflow.text.catalogue import _, lazy

KINDS = {"holiday": lazy("rest day"), "workday": lazy("working day")}


def set_override(session: Session, day: date, kind: str, name: str, *, pack: str | None = None,
                 note: str | None = None) -> CalendarOverride:
    """Make `day` a holiday or a working day (replacing an earlier override of that day)."""
    if kind not in KINDS:
        raise ValueError(_("The kind should be holiday or workday, not %(kind)s", kind=repr(kind)))
    row = session.scalar(select(CalendarOverride).where(CalendarOverride.day == day,
                                                        CalendarOverride.pack.is_(pack) if pack is None
                                                        else CalendarOverride.pack == pack))
    if row is None:
        row = CalendarOverride(day=day, pack=pack)
        session.add(row)
    row.kind, row.name, row.note = kind, name, note
    session.flush()
    return row


def apply(calendar: WorkCalendar, rows: list[CalendarOverride]) -> WorkCalendar:
    """`calendar` with `rows` applied (all-pack rows first, the pack's own last, so they win)."""
    holidays, workdays = dict(calendar.holidays), dict(calendar.workdays)
    for row in sorted(rows, key=lambda r: r.pack is not None):
        holidays.pop(row.day, None)
        workdays.pop(row.day, None)
        (holidays if row.kind == "holiday" else workdays)[row.day] = row.name
    return replace(calendar, holidays=holidays, workdays=workdays)


def calendars_with_overrides(config_root: Path, sessions: sessionmaker[Session]) -> Callable[[str], WorkCalendar]:
    """pack id → its calendar from the seed files plus the database's years and overrides (read at each call)."""
    from_files = pack_calendars(config_root)

    def for_pack(pack: str) -> WorkCalendar:
        with sessions() as session:
            return calendar_in(session, pack, from_files)

    return for_pack


def calendar_in(session: Session, pack: str, from_files: Callable[..., WorkCalendar]) -> WorkCalendar:
    """`pack`'s calendar as `session` sees the database (also inside an open transaction)."""
    rows = list(session.scalars(select(CalendarOverride).where(
        or_(CalendarOverride.pack.is_(None), CalendarOverride.pack == pack))))
    imported = tuple(session.scalars(select(CalendarYear.document).order_by(CalendarYear.year)))
    texts = tuple(json.dumps(doc, sort_keys=True, ensure_ascii=False) for doc in imported)
    calendar = from_files(pack, texts) if texts else from_files(pack)
    return apply(calendar, rows) if rows else calendar
