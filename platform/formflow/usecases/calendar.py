"""Changing the working-day calendar: import a year, set a day; every running deadline follows.

Both run in one transaction: the change, the recount of every live
working-day clock (`calendars.recompute`), and a history event on each
application whose date moved. Whichever channel asks (CLI, admin page), the
same function does it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from formflow.calendars.overrides import calendar_in, set_override
from formflow.calendars.recompute import RecomputeReport, recompute_deadlines
from formflow.calendars.workdays import WorkCalendar, pack_calendars
from formflow.calendars.years import check_year_document, missing_holidays, read_year_file, store_year
from formflow.db import transaction
from formflow.db.models import Application

Progress = Callable[[int, int], None]


@dataclass
class CalendarChange:
    """What a calendar change did: the year or day, whether it changed anything, the recount."""

    label: str
    changed: bool
    recount: RecomputeReport
    warnings: list[str]


def _packs(session: Session) -> list[str]:
    return list(session.scalars(select(Application.pack).distinct()))


def _snapshot(session: Session, packs: list[str], from_files: Callable[..., WorkCalendar]) -> dict[str, WorkCalendar]:
    return {pack: calendar_in(session, pack, from_files) for pack in packs}


def _recount(session: Session, before: dict[str, WorkCalendar], from_files: Callable[..., WorkCalendar],
             today: date, reason: str, progress: Progress | None) -> RecomputeReport:
    after = _snapshot(session, list(before), from_files)
    return recompute_deadlines(session, before=before.__getitem__, after=after.__getitem__, today=today,
                               reason=reason, progress=progress)


def import_year(sessions: sessionmaker[Session], config_root: Path, path: Path, *, by: str | None, today: date,
                validate_only: bool = False, progress: Progress | None = None) -> CalendarChange:
    """Check the year file at `path`, store it (unless `validate_only`) and recount running deadlines."""
    doc = read_year_file(path)
    warnings = missing_holidays(doc)
    from_files = pack_calendars(config_root)
    label = str(doc["year"])
    if validate_only:
        return CalendarChange(label, False, RecomputeReport(), warnings)
    with transaction(sessions) as session:
        before = _snapshot(session, _packs(session), from_files)
        _row, changed = store_year(session, check_year_document(doc, str(path)), by=by)
        recount = _recount(session, before, from_files, today, f"calendar_import:{label}", progress) \
            if changed else RecomputeReport()
    return CalendarChange(label, changed, recount, warnings)


def set_day(sessions: sessionmaker[Session], config_root: Path, day: date, kind: str, name: str, *,
            pack: str | None, note: str | None, today: date, progress: Progress | None = None) -> CalendarChange:
    """Make `day` a holiday or a working day and recount running deadlines."""
    from_files = pack_calendars(config_root)
    with transaction(sessions) as session:
        packs = _packs(session) if pack is None else [pack]
        before = _snapshot(session, packs, from_files)
        set_override(session, day, kind, name, pack=pack, note=note)
        recount = _recount(session, before, from_files, today, f"calendar_set:{day.isoformat()}", progress)
    return CalendarChange(day.isoformat(), True, recount, [])
