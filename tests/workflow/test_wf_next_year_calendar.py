"""Next year's holidays: a template to fill in, an import that checks the file, deadlines that follow it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from wf_support import MZ

from formflow.calendars.overrides import calendars_with_overrides
from formflow.calendars.years import CalendarFileError, next_year_warning
from formflow.db.models import CalendarYear, StageClock
from formflow.usecases.calendar import import_year, set_day
from formflow.usecases.timeline import timeline
from formflow.workflow.history import event_title

# A year file as an administrator would type it from the notice. The dates are this test's own
# (2027's real arrangement is not published in the seeds): New Year's Day off Fri 1 Jan 2027.
YEAR_2027 = """\
year: 2027
source: 测试用的 2027 年安排（非真实通知）
holidays:
- {from: 2027-01-01, to: 2027-01-03, name: 元旦}
- {from: 2027-02-06, to: 2027-02-12, name: 春节}
workdays:
- {date: 2027-02-20, name: 春节调休}
"""


def _write(tmp_path: Path, text: str, name: str = "2027.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _commitment(flow, app_id: int) -> StageClock:
    with flow.p.sessions() as s:
        return s.scalar(select(StageClock).where(StageClock.application_id == app_id,
                                                 StageClock.name == "*commitment"))


def test_importing_next_year_moves_running_deadlines_and_tells_the_history(flow, tmp_path):
    app_id = flow.create(MZ, today=date(2026, 12, 30))
    # no 2027 data yet: Thu 31 Dec, Fri 1 Jan (counted as a weekday), Mon 4 Jan
    assert flow.app(app_id).deadline == date(2027, 1, 4)
    flow.act(app_id, "community_acceptance", "accept", "mj-community", today=date(2026, 12, 31), mark=True)
    assert _commitment(flow, app_id).due_on == date(2027, 5, 6)
    street_due = flow.app(app_id).deadline

    change = import_year(flow.p.sessions, flow.p.root, _write(tmp_path, YEAR_2027), by="admin",
                         today=date(2026, 12, 31))

    assert change.changed and change.recount.moved.get(app_id)
    # weekdays off: Fri 1 Jan and Mon 8–Fri 12 Feb (6), Sat 20 Feb worked (1): 5 working days later
    assert _commitment(flow, app_id).due_on == date(2027, 5, 13)
    assert flow.app(app_id).deadline > street_due  # the street's time limit crosses 1 Jan too
    events = flow.events(app_id)
    assert events[-1].action == "deadline_recomputed"
    assert events[-1].details["clocks"]["*commitment"] == {"from": "2027-05-06", "to": "2027-05-13"}
    # the citizen's history says why the date moved
    from formflow.packs.versions import load_pinned
    from formflow.workflow.spec import spec_for
    with flow.p.sessions() as s:
        app = flow.app(app_id)
        spec = spec_for(app.versions["workflow"], load_pinned(s, app.versions).workflow)
        titles = [entry.title for entry in timeline(s, app, spec, audience="citizen")]
    assert event_title("deadline_recomputed") in titles

    again = import_year(flow.p.sessions, flow.p.root, _write(tmp_path, YEAR_2027), by="admin",
                        today=date(2026, 12, 31))
    assert not again.changed and not again.recount.moved  # the same file twice: nothing moves twice
    assert [e.action for e in flow.events(app_id)].count("deadline_recomputed") == 1


def test_a_day_set_off_moves_deadlines_of_that_pack(flow):
    app_id = flow.create(MZ, today=date(2026, 11, 2))
    before = flow.app(app_id).deadline
    change = set_day(flow.p.sessions, flow.p.root, date(2026, 11, 3), "holiday", "台风停工", pack=MZ, note=None,
                     today=date(2026, 11, 2))
    assert change.recount.moved[app_id]
    assert flow.app(app_id).deadline == date(before.year, before.month, before.day + 1)
    assert flow.events(app_id)[-1].action == "deadline_recomputed"


@pytest.mark.parametrize("text, words", [
    ("year: 2027\nsource: x\nholidays:\n- {from: YYYY-MM-DD, to: YYYY-MM-DD, name: 元旦}\n", "还有日期未填写"),
    ("year: 2027\nsource: x\nholidays:\n- {from: 2028-01-01, to: 2028-01-01, name: 元旦}\n", "不在 2027 年内"),
    ("year: 2027\nholidays:\n- {from: 2027-01-01, to: 2027-01-01, name: 元旦}\n", "缺少 source"),
    ("year: 2027\nsource: x\nholidays:\n- {date: 2027-01-02, name: 元旦}\n"
     "workdays:\n- {date: 2027-01-02, name: 调休}\n", "既是放假日又是上班日"),
    ("year: 2027\nsource: x\nholidays: [\n", "不是有效的 YAML"),
])
def test_a_bad_year_file_is_refused_naming_the_file_and_nothing_is_stored(flow, tmp_path, text, words):
    path = _write(tmp_path, text)
    with pytest.raises(CalendarFileError) as refused:
        import_year(flow.p.sessions, flow.p.root, path, by=None, today=date(2026, 12, 1))
    assert words in refused.value.message and str(path) in refused.value.message
    with flow.p.sessions() as s:
        assert s.scalar(select(CalendarYear)) is None


def test_the_warning_starts_on_1_october_and_ends_with_the_import(flow, tmp_path):
    calendars = calendars_with_overrides(flow.p.root, flow.p.sessions)
    assert next_year_warning(calendars(MZ), date(2026, 9, 30)) is None
    warning = next_year_warning(calendars(MZ), date(2026, 10, 1))
    assert warning and "2027" in warning and "formflow calendar import" in warning
    import_year(flow.p.sessions, flow.p.root, _write(tmp_path, YEAR_2027), by=None, today=date(2026, 12, 1))
    assert next_year_warning(calendars(MZ), date(2026, 12, 1)) is None
    assert calendars(MZ).name_of(date(2027, 1, 1)) == "元旦"


def test_the_template_is_refused_until_filled_in(tmp_path):
    env = dict(os.environ, FORMFLOW_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    cmd = [sys.executable, "-m", "formflow.cli", "calendar"]
    out = tmp_path / "2027.yaml"
    made = subprocess.run([*cmd, "template", "2027", "--out", str(out)], capture_output=True, text=True, env=env)
    assert made.returncode == 0, made.stderr
    text = out.read_text(encoding="utf-8")
    assert "国务院办公厅关于2027年部分节假日安排的通知" in text and "元旦" in text and "国庆节" in text
    refused = subprocess.run([*cmd, "import", str(out), "--validate-only"], capture_output=True, text=True,
                             env=env)
    assert refused.returncode == 2 and "还有日期未填写" in refused.stderr and str(out) in refused.stderr
    filled = _write(tmp_path, YEAR_2027, "filled.yaml")
    ok = subprocess.run([*cmd, "import", str(filled), "--validate-only"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    assert "文件有效" in ok.stdout and "清明节" in ok.stderr  # a standard holiday the file leaves out is warned
