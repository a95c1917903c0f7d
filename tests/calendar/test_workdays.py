"""WorkCalendar: holidays, make-up workdays, deadlines, missing years, overrides, clock."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formflow.calendars import workdays
from formflow.calendars.workdays import WorkCalendar, load_calendar, now, today

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "calendar"


@lru_cache(maxsize=1)
def national() -> WorkCalendar:
    return load_calendar(SEEDS)


@pytest.fixture
def cal() -> WorkCalendar:
    """A fresh calendar (its missing-year warnings not yet given)."""
    return load_calendar(SEEDS)


def test_national_day_2026(cal: WorkCalendar) -> None:
    for day in range(1, 8):
        assert not cal.is_working_day(date(2026, 10, day)), day
    assert cal.holidays[date(2026, 10, 1)] == "国庆节"
    assert cal.is_working_day(date(2026, 9, 30))
    assert cal.is_working_day(date(2026, 10, 8))


def test_makeup_workday_on_weekend_counts(cal: WorkCalendar) -> None:
    saturday = date(2026, 10, 10)
    assert saturday.weekday() == 5
    assert cal.is_working_day(saturday)
    assert cal.workdays[saturday] == "国庆节调休"
    assert cal.name_of(saturday) == "国庆节调休"
    assert not cal.is_working_day(date(2026, 10, 11))  # ordinary Sunday


def test_deadline_skips_national_day(cal: WorkCalendar) -> None:
    # Oct 1–7 off; Oct 8 (Thu), Oct 9 (Fri), Oct 10 (make-up Saturday).
    assert cal.add_days(date(2026, 9, 30), 3, "working") == date(2026, 10, 10)
    assert cal.add_days(date(2026, 9, 30), 1, "working") == date(2026, 10, 8)
    assert cal.add_days(date(2026, 9, 30), 4, "working") == date(2026, 10, 12)


def test_zero_days_is_start_and_start_not_counted(cal: WorkCalendar) -> None:
    assert cal.add_days(date(2026, 10, 3), 0, "working") == date(2026, 10, 3)
    # Friday start: the next working day is Monday.
    assert cal.add_days(date(2026, 3, 6), 1, "working") == date(2026, 3, 9)


def test_calendar_unit(cal: WorkCalendar) -> None:
    assert cal.add_days(date(2026, 9, 30), 20, "calendar") == date(2026, 10, 20)
    assert cal.add_days(date(2026, 12, 25), 10, "calendar") == date(2027, 1, 4)


def test_unknown_unit_and_negative_days_are_named(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="fortnights"):
        cal.add_days(date(2026, 1, 5), 1, "fortnights")
    with pytest.raises(ValueError, match="-1"):
        cal.add_days(date(2026, 1, 5), -1, "working")


def test_year_without_data_uses_weekends_and_warns_once(
    cal: WorkCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    assert 2027 not in cal.years
    with caplog.at_level(logging.WARNING, logger="formflow.calendars.workdays"):
        # Thu Dec 31 2026, then 2027 weekdays only: Fri Jan 1, Mon 4, Tue 5, Wed 6.
        assert cal.add_days(date(2026, 12, 30), 5, "working") == date(2027, 1, 6)
        assert cal.working_days_between(date(2026, 12, 30), date(2027, 1, 10)) == 7
        assert not cal.is_working_day(date(2027, 1, 9))
    warnings = [r for r in caplog.records if "2027" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING


def test_warning_is_per_calendar(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="formflow.calendars.workdays"):
        load_calendar(SEEDS).is_working_day(date(2030, 6, 3))
        load_calendar(SEEDS).is_working_day(date(2030, 6, 3))
    assert len([r for r in caplog.records if "2030" in r.getMessage()]) == 2


def test_working_days_between(cal: WorkCalendar) -> None:
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 9, 30)) == 0
    assert cal.working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == -3


def test_override_file_wins(tmp_path: Path) -> None:
    overrides = tmp_path / "calendar.yaml"
    overrides.write_text(
        "holidays:\n"
        "  - {date: 2026-10-12, name: 地方纪念日}\n"
        "  - {from: 2026-10-10, to: 2026-10-10, name: 调整为休息}\n"
        "workdays:\n"
        "  - {date: '2026-10-07', name: 地方调整上班}\n",
        encoding="utf-8",
    )
    base = load_calendar(SEEDS)
    cal = load_calendar(SEEDS, overrides)
    assert base.is_working_day(date(2026, 10, 12)) and not cal.is_working_day(date(2026, 10, 12))
    assert base.is_working_day(date(2026, 10, 10)) and not cal.is_working_day(date(2026, 10, 10))
    assert not base.is_working_day(date(2026, 10, 7)) and cal.is_working_day(date(2026, 10, 7))
    assert cal.name_of(date(2026, 10, 12)) == "地方纪念日"
    assert cal.add_days(date(2026, 9, 30), 1, "working") == date(2026, 10, 7)


def test_from_documents_accepts_strings_and_overrides_in_no_data_year() -> None:
    cal = WorkCalendar.from_documents(
        [
            {
                "year": 2026,
                "holidays": [{"from": "2026-10-01", "to": "2026-10-02", "name": "国庆节"}],
            }
        ],
        [{"workdays": [{"date": "2027-01-02", "name": "调休"}]}],
    )
    assert cal.years == frozenset({2026})
    assert not cal.is_working_day(date(2026, 10, 2))
    assert cal.is_working_day(date(2027, 1, 2))  # a Saturday, by override


@pytest.mark.parametrize(
    ("doc", "named"),
    [
        ({"year": "2026"}, "'2026'"),
        ({"year": 2026, "holidays": [{"date": "2026-13-01", "name": "x"}]}, "2026-13-01"),
        (
            {"year": 2026, "holidays": [{"from": "2026-10-07", "to": "2026-10-01", "name": "x"}]},
            "2026-10-07",
        ),
        ({"year": 2026, "workdays": [{"date": "2026-10-10"}]}, "2026-10-10"),
    ],
)
def test_bad_documents_name_the_value(doc: dict, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        WorkCalendar.from_documents([doc])


def test_file_name_must_match_year(tmp_path: Path) -> None:
    (tmp_path / "2025.yaml").write_text("year: 2026\n", encoding="utf-8")
    with pytest.raises(ValueError, match="2025.yaml"):
        load_calendar(tmp_path)


# --------------------------------------------------------------------------- clock

NEAR_MIDNIGHT = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 01:30 on 2 March in Shanghai


def test_today_in_shanghai_differs_from_utc_near_midnight() -> None:
    assert today("Asia/Shanghai", now=NEAR_MIDNIGHT) == date(2026, 3, 2)
    assert today("UTC", now=NEAR_MIDNIGHT) == date(2026, 3, 1)
    assert today(now=NEAR_MIDNIGHT) == date(2026, 3, 2)
    shanghai = now("Asia/Shanghai", at=NEAR_MIDNIGHT)
    assert (shanghai.hour, shanghai.utcoffset()) == (1, timedelta(hours=8))


def test_clock_uses_injected_utc_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workdays, "_utcnow", lambda: NEAR_MIDNIGHT)
    assert today() == date(2026, 3, 2)
    assert today("UTC") == date(2026, 3, 1)
    assert now().isoformat() == "2026-03-02T01:30:00+08:00"


def test_naive_instant_is_rejected() -> None:
    with pytest.raises(ValueError, match="2026-03-01"):
        today(now=datetime(2026, 3, 1, 12, 0))


# --------------------------------------------------------------------------- properties

starts = st.dates(min_value=date(2004, 1, 1), max_value=date(2028, 12, 31))
counts = st.integers(min_value=0, max_value=250)


@given(starts, st.integers(min_value=1, max_value=250))
def test_deadline_is_a_working_day(start: date, n: int) -> None:
    cal = national()
    assert cal.is_working_day(cal.add_days(start, n, "working"))


@given(starts, counts)
def test_deadline_is_monotonic(start: date, n: int) -> None:
    cal = national()
    assert cal.add_days(start, n, "working") < cal.add_days(start, n + 1, "working")


@given(starts, counts)
def test_between_inverts_add_days(start: date, n: int) -> None:
    cal = national()
    assert cal.working_days_between(start, cal.add_days(start, n, "working")) == n
