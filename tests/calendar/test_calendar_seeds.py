"""The shipped national seeds are what the generator writes from chinesecalendar."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
import yaml

from formflow.calendars.workdays import generate_year, load_calendar, main, package_years

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "calendar"


def test_a_seed_file_for_every_package_year() -> None:
    assert sorted(int(p.stem) for p in SEEDS.glob("*.yaml")) == list(package_years())
    assert package_years().start == 2004 and 2026 in package_years()


@pytest.mark.parametrize("year", list(package_years()))
def test_seed_file_is_up_to_date(year: int) -> None:
    shipped = yaml.safe_load((SEEDS / f"{year}.yaml").read_text(encoding="utf-8"))
    assert shipped == generate_year(year)


@pytest.mark.parametrize("year", [2025, 2026])
def test_seeds_agree_with_chinesecalendar_every_day(year: int) -> None:
    cal = load_calendar(SEEDS)
    day = date(year, 1, 1)
    while day.year == year:
        assert cal.is_working_day(day) == chinesecalendar_workday(day), day
        day += timedelta(days=1)


def chinesecalendar_workday(day: date) -> bool:
    return bool(chinese_calendar.is_workday(day))


def test_document_shape_2026() -> None:
    doc = generate_year(2026)
    assert list(doc) == ["year", "source", "holidays", "workdays"]
    assert doc["source"].startswith(f"chinesecalendar {chinese_calendar.__version__};")
    assert {"from": date(2026, 10, 1), "to": date(2026, 10, 7), "name": "国庆节"} in doc["holidays"]
    assert {"date": date(2026, 10, 10), "name": "国庆节调休"} in doc["workdays"]
    names = {h["name"] for h in doc["holidays"]}
    assert names == {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"}


def test_touching_mid_autumn_and_national_day_are_one_range() -> None:
    ranges = {(h["from"], h["to"], h["name"]) for h in generate_year(2023)["holidays"]}
    assert (date(2023, 9, 29), date(2023, 10, 6), "中秋节、国庆节") in ranges
    ranges = {(h["from"], h["to"], h["name"]) for h in generate_year(2025)["holidays"]}
    assert (date(2025, 10, 1), date(2025, 10, 8), "国庆节、中秋节") in ranges


def test_main_writes_files_and_names_years_without_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "2026", "2099", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "2099" in err and "2026" not in err.replace("2004–2026", "")
    assert (tmp_path / "2026.yaml").read_text(encoding="utf-8") == (SEEDS / "2026.yaml").read_text(
        encoding="utf-8"
    )
    assert not (tmp_path / "2099.yaml").exists()
    assert main(["generate", "2025", "--out", str(tmp_path)]) == 0


def test_generate_year_without_data_raises() -> None:
    with pytest.raises(LookupError, match="2099"):
        generate_year(2099)
