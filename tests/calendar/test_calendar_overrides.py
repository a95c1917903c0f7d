"""Working-day corrections in the database win over the seed files, per pack or for all."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

from formflow.calendars.overrides import calendars_with_overrides, set_override

MEIZHOU, JIANGXI = "meizhou-meijiang", "jiangxi"


def test_a_day_off_moves_the_deadline_of_that_pack_only(sqlite_platform):
    p = sqlite_platform
    calendars = calendars_with_overrides(p.root, p.sessions)
    before = calendars(MEIZHOU).add_days(date(2026, 11, 2), 3, "working")
    assert before == date(2026, 11, 5)
    with p.sessions.begin() as s:
        set_override(s, date(2026, 11, 3), "holiday", "台风停工", pack=MEIZHOU)
    assert calendars(MEIZHOU).add_days(date(2026, 11, 2), 3, "working") == date(2026, 11, 6)
    assert calendars(JIANGXI).add_days(date(2026, 11, 2), 3, "working") == before


def test_an_all_pack_workday_counts_on_a_weekend_and_can_be_replaced(sqlite_platform):
    p = sqlite_platform
    calendars = calendars_with_overrides(p.root, p.sessions)
    saturday = date(2026, 11, 7)
    assert not calendars(JIANGXI).is_working_day(saturday)
    with p.sessions.begin() as s:
        set_override(s, saturday, "workday", "调休上班")
    assert calendars(JIANGXI).is_working_day(saturday) and calendars(MEIZHOU).is_working_day(saturday)
    with p.sessions.begin() as s:
        set_override(s, saturday, "holiday", "取消调休")
    assert not calendars(JIANGXI).is_working_day(saturday)


def test_cli_sets_and_lists_overrides(sqlite_platform):
    env = dict(os.environ, FORMFLOW_DATABASE_URL=sqlite_platform.url)
    cmd = [sys.executable, "-m", "formflow.cli", "calendar"]
    done = subprocess.run([*cmd, "set", "2026-12-24", "holiday", "地方假日", "--pack", MEIZHOU],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    listed = subprocess.run([*cmd, "list"], capture_output=True, text=True, env=env)
    assert "2026-12-24" in listed.stdout and "地方假日" in listed.stdout and MEIZHOU in listed.stdout
    bad = subprocess.run([*cmd, "set", "2026-12-24", "party", "x"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2
