"""Next year's holidays: a year file checked, imported into the database, and a template to fill in.

The State Council publishes each year's arrangement in November or December;
until `chinesecalendar` carries it, an administrator types it into the template
(`formflow calendar template 2027`) and imports it (`formflow calendar import
2027.yaml`). An imported year wins over `seeds/calendar/<year>.yaml` on every
node (it lives in `calendar_years`). The file has the seed files' shape.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.calendars.workdays import HOLIDAY_NAMES, WorkCalendar, _entry_days, _seed
from formflow.db.models import CalendarYear, utcnow
from formflow.text.catalogue import _
from formflow.text.errors import Refusal

#: Holidays every year's notice arranges (the 2015 commemoration day was a one-off).
STANDARD_HOLIDAYS = HOLIDAY_NAMES[:7]
#: What the template leaves for the person to fill in.
BLANK = "YYYY-MM-DD"


class CalendarFileError(Refusal):
    code = "calendar_file_invalid"
    status = 400


def _problem(where: str, message: str) -> CalendarFileError:
    return CalendarFileError(_("%(where)s: %(problem)s", where=where, problem=message), file=where)


def read_year_file(path: Path) -> dict[str, Any]:
    """The checked document of a year file; `CalendarFileError` naming the file and entry otherwise."""
    where = str(path)
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise _problem(where, _("the file cannot be read (%(error)s)", error=exc.strerror or exc)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else "?"
        raise _problem(where, _("not valid YAML near line %(line)s", line=line)) from exc
    return check_year_document(doc, where)


def check_year_document(doc: Any, where: str) -> dict[str, Any]:
    """Check one year's document: a whole year, a source, dates of that year, no day both ways."""
    if not isinstance(doc, dict):
        raise _problem(where, _("a calendar file should be a mapping with year, source, holidays and workdays"))
    year = doc.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise _problem(where, _("year should be a whole year such as 2027, not %(value)s", value=repr(year)))
    source = doc.get("source")
    if not isinstance(source, str) or not source.strip():
        raise _problem(where, _("source is missing: name the notice the dates come from"))
    seen: dict[date, str] = {}
    for key in ("holidays", "workdays"):
        entries = doc.get(key) or []
        if not isinstance(entries, list):
            raise _problem(where, _("%(key)s should be a list", key=key))
        for index, entry in enumerate(entries, start=1):
            at = f"{key}[{index}]"
            if not isinstance(entry, dict):
                raise _problem(where, _("%(at)s should be a mapping", at=at))
            if BLANK in (str(entry.get("date")), str(entry.get("from")), str(entry.get("to"))):
                raise _problem(where, _("%(at)s (%(name)s) still has a date to fill in", at=at,
                                        name=entry.get("name") or "?"))
            try:
                days, _name = _entry_days(entry)
            except ValueError as exc:
                raise _problem(where, f"{at}: {exc}") from exc
            for day in days:
                if day.year != year:
                    raise _problem(where, _("%(at)s: %(day)s is not in %(year)s", at=at, day=day.isoformat(),
                                            year=year))
                if day in seen and seen[day] != key:
                    raise _problem(where, _("%(day)s is both a holiday and a working day", day=day.isoformat()))
                seen[day] = key
    if not doc.get("holidays"):
        raise _problem(where, _("holidays is empty: a year's notice always arranges holidays"))
    return {"year": year, "source": source.strip(), "holidays": doc.get("holidays") or [],
            "workdays": doc.get("workdays") or []}


def missing_holidays(doc: Mapping[str, Any]) -> list[str]:
    """Standard holidays the document does not name (a warning: the notice may join two)."""
    named = " ".join(str(e.get("name", "")) for e in doc.get("holidays") or [])
    return [_seed(h) for h in STANDARD_HOLIDAYS if _seed(h) not in named]


def digest(doc: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(_jsonable(doc), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def store_year(session: Session, doc: Mapping[str, Any], *, by: str | None) -> tuple[CalendarYear, bool]:
    """Insert or replace the year in the caller's transaction; whether anything changed."""
    content = _jsonable(dict(doc))
    sha = digest(content)
    row = session.get(CalendarYear, content["year"])
    if row is not None and row.sha256 == sha:
        return row, False
    if row is None:
        row = CalendarYear(year=content["year"])
        session.add(row)
    row.document, row.source, row.sha256 = content, content["source"], sha
    row.imported_at, row.imported_by = utcnow(), by
    session.flush()
    return row, True


def imported_documents(session: Session) -> list[dict[str, Any]]:
    """Every imported year's document, oldest year first."""
    return [row.document for row in session.scalars(select(CalendarYear).order_by(CalendarYear.year))]


def next_year_warning(calendar: WorkCalendar, today: date) -> str | None:
    """From 1 October: a warning when next year has no holiday data (deadlines would count holidays)."""
    if today.month < 10 or calendar.has_data(today.year + 1):
        return None
    return _("There is no holiday data for %(year)s yet: deadlines running into %(year)s count its holidays "
             "as working days. When the State Council's notice is out, fill in `formflow calendar template "
             "%(year)s` and load it with `formflow calendar import`.", year=today.year + 1)


def template(year: int) -> str:
    """A year file to fill in, in the order and wording of the State Council's annual notice."""
    header = [
        _seed("# %(year)s holidays: fill in from the State Council General Office's notice on the %(year)s "
              "holiday arrangement, then load with: formflow calendar import %(year)s.yaml", year=year),
        _seed("# Each holiday as in the notice (one. New Year's Day: … off, … days in all); make-up "
              "working days under workdays. Dates YYYY-MM-DD."),
    ]
    doc = {
        "year": year,
        "source": _seed("The State Council General Office's notice on the %(year)s holiday arrangement "
                        "(document number)", year=year),
        "holidays": [{"from": BLANK, "to": BLANK, "name": _seed(h)} for h in STANDARD_HOLIDAYS],
        "workdays": [{"date": BLANK, "name": _seed("%(holiday)s make-up workday", holiday=_seed(h))}
                     for h in ("Spring Festival", "Labour Day", "National Day")],
    }
    body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, default_flow_style=None, width=200)
    return "\n".join(header) + "\n" + body
