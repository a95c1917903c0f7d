"""Working days as data: statutory holidays and make-up workdays.

The calendar is read from ``seeds/calendar/<year>.yaml`` (plus a pack's
``calendar.yaml`` overrides) rather than asked of the ``chinesecalendar``
package at run time: the package stops at its last published year and cannot
take local overrides. The package is only used by :func:`generate_year` to
write the national seed files (``python -m formflow.calendars.workdays generate``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from formflow.text.catalogue import DEFAULT_LOCALE, _, in_locale

log = logging.getLogger(__name__)

DEFAULT_TZ = "Asia/Shanghai"
UNITS = ("working", "calendar")

# chinesecalendar's English holiday names; each is a msgid whose zh_CN text (config.po) is the name the
# State Council notices use, which the generated seed files hold.
HOLIDAY_NAMES: tuple[str, ...] = (
    "New Year's Day",
    "Spring Festival",
    "Tomb-sweeping Day",
    "Labour Day",
    "Dragon Boat Festival",
    "Mid-autumn Festival",
    "National Day",
    "Anti-Fascist 70th Day",
)
# Holidays the notices announce as one block when their ranges touch (National Day and Mid-Autumn).
JOINABLE: tuple[frozenset[str], ...] = (frozenset({"National Day", "Mid-autumn Festival"}),)


def _seed(msgid: str, **params: Any) -> str:
    """Text of a national seed file: always in the authority's language, whoever runs the generator."""
    return in_locale(DEFAULT_LOCALE, msgid, **params)


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class WorkCalendar:
    """Holidays and make-up workdays; weekends otherwise rest days."""

    holidays: Mapping[date, str]
    workdays: Mapping[date, str]
    years: frozenset[int]
    _warned: set[int] = field(default_factory=set, init=False, repr=False, compare=False)

    @classmethod
    def from_documents(
        cls, national: Iterable[Mapping[str, Any]], overrides: Iterable[Mapping[str, Any]] = ()
    ) -> WorkCalendar:
        """Build from loaded YAML documents; ``overrides`` win over ``national``."""
        holidays: dict[date, str] = {}
        workdays: dict[date, str] = {}
        years: set[int] = set()
        for doc in national:
            year = doc.get("year")
            if not isinstance(year, int) or isinstance(year, bool):
                raise ValueError(_("The year of a calendar file should be a whole year, not %(value)s",
                                   value=repr(year)))
            years.add(year)
            _merge(doc, holidays, workdays)
        for doc in overrides:
            _merge(doc, holidays, workdays)
        return cls(holidays=holidays, workdays=workdays, years=frozenset(years))

    def has_data(self, year: int) -> bool:
        """Whether national data covers ``year``."""
        return year in self.years

    def is_working_day(self, d: date) -> bool:
        """Make-up workday: yes; holiday: no; otherwise Monday to Friday."""
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        if d.year not in self.years and d.year not in self._warned:
            self._warned.add(d.year)
            log.warning(_("No national holiday data for %(year)s (seeds/calendar/%(year)s.yaml); "
                          "working days are counted by weekends only", year=d.year))
        return d.weekday() < 5

    def add_days(self, start: date, days: int, unit: str) -> date:
        """The ``days``-th working (or calendar) day after ``start``; 0 gives ``start``."""
        if unit not in UNITS:
            raise ValueError(_("Unknown time limit unit %(unit)s; it should be working or calendar", unit=repr(unit)))
        if days < 0:
            raise ValueError(_("A time limit cannot be a negative number of days: %(days)s", days=repr(days)))
        if unit == "calendar":
            return start + timedelta(days=days)
        d, left = start, days
        while left:
            d += timedelta(days=1)
            if self.is_working_day(d):
                left -= 1
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; negative when ``b`` is before ``a``."""
        if b < a:
            return -self.working_days_between(b, a)
        return sum(1 for d in _days(a + timedelta(days=1), b) if self.is_working_day(d))

    def name_of(self, d: date) -> str | None:
        """Holiday or make-up workday name of ``d``, if any."""
        return self.workdays.get(d) or self.holidays.get(d)


def _days(first: date, last: date) -> Iterator[date]:
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


def _as_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(_("A date should be YYYY-MM-DD, not %(value)s", value=repr(value)))


def _entry_days(entry: Mapping[str, Any]) -> tuple[list[date], str]:
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(_("A calendar entry has no name: %(entry)s", entry=repr(dict(entry))))
    if "date" in entry:
        return [_as_date(entry["date"])], name
    if "from" in entry and "to" in entry:
        first, last = _as_date(entry["from"]), _as_date(entry["to"])
        if last < first:
            raise ValueError(_("A calendar entry's to is before its from: %(entry)s", entry=repr(dict(entry))))
        return list(_days(first, last)), name
    raise ValueError(_("A calendar entry should have date or from/to: %(entry)s", entry=repr(dict(entry))))


def _merge(doc: Mapping[str, Any], holidays: dict[date, str], workdays: dict[date, str]) -> None:
    """Apply one document: a later document's entry replaces an earlier one's."""
    for entry in doc.get("holidays") or ():
        days, name = _entry_days(entry)
        for d in days:
            workdays.pop(d, None)
            holidays[d] = name
    for entry in doc.get("workdays") or ():
        days, name = _entry_days(entry)
        for d in days:
            holidays.pop(d, None)
            workdays[d] = name


def _national_documents(seed_dir: Path) -> dict[int, dict[str, Any]]:
    national: dict[int, dict[str, Any]] = {}
    for path in sorted(Path(seed_dir).glob("*.yaml")):
        doc = _read_yaml(path)
        if str(doc.get("year")) != path.stem:
            raise ValueError(_("%(path)s: year %(year)s does not match the file name", path=path,
                               year=repr(doc.get("year"))))
        national[doc["year"]] = doc
    return national


def load_calendar(seed_dir: Path, overrides_file: Path | None = None,
                  imported: Iterable[Mapping[str, Any]] = ()) -> WorkCalendar:
    """Read ``seed_dir/*.yaml`` (one file per year), imported years (each replacing its year), pack overrides."""
    national: dict[Any, Mapping[str, Any]] = dict(_national_documents(seed_dir))
    for doc in imported:
        national[doc["year"]] = doc
    overrides = [_read_yaml(Path(overrides_file))] if overrides_file else []
    return WorkCalendar.from_documents(national.values(), overrides)


def pack_calendars(config_root: Path) -> Callable[..., WorkCalendar]:
    """(pack id, imported years as JSON texts) → national seeds, imported years and the pack's calendar.yaml."""
    seeds = config_root / "seeds"

    @lru_cache(maxsize=64)
    def for_pack(pack: str, imported: tuple[str, ...] = ()) -> WorkCalendar:
        overrides = seeds / pack / "calendar.yaml"
        return load_calendar(seeds / "calendar", overrides if overrides.is_file() else None,
                             [json.loads(text) for text in imported])

    return for_pack


def _read_yaml(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(doc, dict):
        raise ValueError(_("%(path)s: a calendar file should be a mapping, not %(type)s", path=path,
                           type=type(doc).__name__))
    return doc


# --------------------------------------------------------------------------- clock


def _utcnow() -> datetime:
    return datetime.now(ZoneInfo("UTC"))


def _in_zone(tz: str, at: datetime | None) -> datetime:
    instant = _utcnow() if at is None else at
    if instant.tzinfo is None:
        raise ValueError(_("A time must carry a time zone: %(time)s", time=instant.isoformat()))
    return instant.astimezone(ZoneInfo(tz))


def now(tz: str = DEFAULT_TZ, at: datetime | None = None) -> datetime:
    """Current time (or the aware instant ``at``) in zone ``tz``, whatever the server's zone."""
    return _in_zone(tz, at)


def today(tz: str = DEFAULT_TZ, now: datetime | None = None) -> date:
    """Current date in zone ``tz``; ``now`` injects the instant (tests)."""
    return _in_zone(tz, now).date()


# --------------------------------------------------------------------------- generator


def package_years() -> range:
    """Years chinesecalendar has data for."""
    import chinese_calendar

    first = min(chinese_calendar.holidays).year
    last = max(chinese_calendar.holidays).year
    return range(first, last + 1)


def generate_year(year: int) -> dict[str, Any]:
    """One national seed document for ``year``, from the chinesecalendar package."""
    import chinese_calendar

    if year not in package_years():
        raise LookupError(year)
    days = {d: _chinese_name(n) for d, n in chinese_calendar.holidays.items() if d.year == year}
    workdays = sorted(
        (d, _chinese_name(n)) for d, n in chinese_calendar.workdays.items() if d.year == year
    )
    return {
        "year": year,
        "source": _seed("chinesecalendar %(version)s; the State Council General Office's notice on holidays",
                        version=chinese_calendar.__version__),
        "holidays": [
            {"from": a, "to": b, "name": n} for a, b, n in _join(_ranges(days, set(dict(workdays))))
        ],
        "workdays": [{"date": d, "name": _seed("%(holiday)s make-up workday", holiday=n)} for d, n in workdays],
    }


def _chinese_name(english: str) -> str:
    if english not in HOLIDAY_NAMES:
        raise ValueError(_("Unknown holiday name %(name)s; add it to HOLIDAY_NAMES", name=repr(english)))
    return _seed(english)


def _ranges(days: Mapping[date, str], workdays: set[date]) -> list[tuple[date, date, str]]:
    """Merge days of one name into ranges, bridging weekend rest days between them."""
    out: list[tuple[date, date, str]] = []
    for d in sorted(days):
        if out and out[-1][2] == days[d] and _only_rest(out[-1][1], d, workdays):
            out[-1] = (out[-1][0], d, days[d])
        else:
            out.append((d, d, days[d]))
    return out


def _only_rest(last: date, nxt: date, workdays: set[date]) -> bool:
    gap = list(_days(last + timedelta(days=1), nxt - timedelta(days=1)))
    return all(g.weekday() >= 5 and g not in workdays for g in gap)


def _join(ranges: list[tuple[date, date, str]]) -> list[tuple[date, date, str]]:
    """Join touching ranges of joinable holidays, named in order (Mid-Autumn, then National Day)."""
    out: list[tuple[date, date, str]] = []
    joinable = [frozenset(_seed(name) for name in group) for group in JOINABLE]
    separator = _seed(", ")
    for a, b, n in ranges:
        if out and out[-1][1] + timedelta(days=1) == a:
            names = out[-1][2].split(separator)
            if any({*names, n} <= group for group in joinable):
                joined = names if n in names else [*names, n]
                out[-1] = (out[-1][0], b, separator.join(joined))
                continue
        out.append((a, b, n))
    return out


def dump_year(doc: Mapping[str, Any]) -> str:
    """YAML text of a generated document (one entry per line)."""
    header = _seed("# Generated by python -m formflow.calendars.workdays generate; do not edit by hand") + "\n"
    body = yaml.safe_dump(
        dict(doc), allow_unicode=True, sort_keys=False, default_flow_style=None, width=200
    )
    return header + body


def main(argv: Sequence[str] | None = None) -> int:
    """``generate YEAR… --out DIR``: write seeds; exit 2 naming years without data."""
    parser = argparse.ArgumentParser(prog="python -m formflow.calendars.workdays")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help=_("Generate the national holiday files from chinesecalendar"))
    gen.add_argument("years", nargs="+", type=int)
    gen.add_argument("--out", type=Path, default=Path("seeds/calendar"))
    args = parser.parse_args(argv)

    available = package_years()
    missing = [y for y in args.years if y not in available]
    args.out.mkdir(parents=True, exist_ok=True)
    for year in args.years:
        if year in available:
            path = args.out / f"{year}.yaml"
            path.write_text(dump_year(generate_year(year)), encoding="utf-8")
            print(_("Written: %(path)s", path=path))
    span = f"{available.start}–{available.stop - 1}"
    for year in missing:
        print(
            _("chinesecalendar has no data for %(year)s (only for %(span)s); %(year)s.yaml was not generated",
              year=year, span=span),
            file=sys.stderr,
        )
    return 2 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
