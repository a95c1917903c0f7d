"""Workflow test support: make an application, mark tables, act as a demo account."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from formflow.calendars.workdays import WorkCalendar
from formflow.db.models import Account, Application, Event, Office
from formflow.packs.versions import load_pinned, pin
from formflow.reviews.tables import record_marking
from formflow.workflow import engine
from formflow.workflow.engine import Transition
from formflow.workflow.timers import TickReport, tick

ROOT = Path(__file__).resolve().parents[2]
MATTER = "public-rental-housing"
MZ, JX = "meizhou-meijiang", "jiangxi"
#: An office where each pack's demo reviewers have jurisdiction.
HOME = {MZ: "441402001001", JX: "360102001"}
CITIZEN = {MZ: "mj-citizen-chen", JX: "jx-citizen-liqiang"}
_numbers = count(1)


def full_marking(table: dict[str, Any], fail_row: str | None = None) -> dict[str, Any]:
    rows = {}
    for row in table["rows"]:
        key = str(row["no"])
        verdicts = ["pass"] * len(row["criteria"])
        entry: dict[str, Any] = {"criteria": verdicts}
        if key == fail_row:
            verdicts[0] = "fail"
            entry["note"] = "原件与复印件不一致"
        rows[key] = entry
    return {"rows": rows}


class Flow:
    """One platform, one calendar: the steps a test takes, each in its own transaction."""

    def __init__(self, platform, calendar: WorkCalendar, packs=None) -> None:
        self.p = platform
        self.calendar = calendar
        self.packs = packs or platform.packs
        self.renderers = platform.root / "renderers"

    def account(self, username: str) -> Account:
        account = self.p.account(username)
        assert account is not None, username
        return account

    def create(self, pack: str = MZ, *, office: str | None = None, today: date, packs=None) -> int:
        """A submitted application of `pack`, pinned now, at `office`."""
        with self.p.sessions.begin() as s:
            where = s.get(Office, office or HOME[pack])
            applicant = s.scalar(select(Account).where(Account.username == CITIZEN[pack]))
            app = Application(
                number=f"T{today:%Y%m%d}{next(_numbers):05d}", pack=pack, matter=MATTER,
                status="draft", applicant_id=applicant.id, office_id=where.id,
                office_path=where.path, versions=pin(s, packs or self.packs, pack, MATTER),
                data={},
            )
            s.add(app)
            s.flush()
            engine.enter_workflow(s, app, applicant, calendar=self.calendar, today=today)
            return app.id

    def app(self, app_id: int) -> Application:
        with self.p.sessions() as s:
            return s.get(Application, app_id)

    def mark(self, app_id: int, stage: str, username: str, fail_row: str | None = None) -> None:
        with self.p.sessions.begin() as s:
            app = s.get(Application, app_id)
            pinned = load_pinned(s, app.versions)
            table_id = pinned.workflow["stages"][stage]["table"]
            marking = full_marking(pinned.table(table_id), fail_row)
            record_marking(s, app, stage, table_id, marking, self.account(username), pinned)

    def act(self, app_id: int, stage: str, action: str, username: str, *, today: date,
            note: str | None = None, materials: Sequence[str] = (), mark: bool = False,
            version: int | None = None) -> Transition:
        if mark:
            self.mark(app_id, stage, username)
        with self.p.sessions.begin() as s:
            current = s.get(Application, app_id).version if version is None else version
            return engine.perform(
                s, app_id, stage=stage, action=action, actor=self.account(username), note=note,
                expected_version=current, calendar=self.calendar, today=today,
                storage=self.p.storage, renderers=self.renderers, materials=materials,
                keys=self.p.keys,
            )

    def tick(self, today: date) -> TickReport:
        return tick(self.p.sessions, today=today, calendar=self.calendar)

    def events(self, app_id: int) -> list[Event]:
        with self.p.sessions() as s:
            return list(s.scalars(select(Event).where(Event.application_id == app_id).order_by(Event.id)))

    def actions(self, app_id: int) -> list[str]:
        return [e.action for e in self.events(app_id) if e.action != "mark"]

    def count(self, model, **where) -> int:
        with self.p.sessions() as s:
            q = select(func.count()).select_from(model)
            for key, value in where.items():
                q = q.where(getattr(model, key) == value)
            return s.scalar(q)


#: The happy path of each shipped workflow: (stage, action, user, mark the table?, note), in order.
HAPPY = {
    MZ: [
        ("community_acceptance", "accept", "mj-community", True, None),
        ("street_review", "approve", "mj-street", True, None),
        ("public_notice", None, None, False, None),  # expires by tick
        ("street_forward", "forward", "mj-street", False, None),
        ("civil_affairs_review", "approve", "mj-civil-affairs", True, None),
        ("housing_review", "approve", "mj-housing", True, None),
        ("centre_review", "approve", "mj-centre", True, None),
        ("section_approval", "approve", "mj-section", True, None),
        ("leader_approval", "approve", "mj-leader", True, None),
    ],
    JX: [
        ("acceptance", "accept", "jx-street-clerk", True, None),
        ("civil_affairs_check", "report", "jx-civil-affairs", False, "收入、财产与填报一致"),
        ("housing_check", "report", "jx-housing-reviewer", False, "无自有住房"),
        ("county_review", "approve", "jx-housing-reviewer", True, None),
        ("public_notice", None, None, False, None),
        ("registration", "register", "jx-housing-reviewer", False, None),
    ],
}


def drive(flow: Flow, app_id: int, pack: str, until: str, today: date) -> date:
    """Take the happy path until `until` is a current stage; returns the day reached."""
    day = today
    for stage, action, user, mark, note in HAPPY[pack]:
        if until in flow.app(app_id).stages:
            return day
        if action is None:  # a timer: jump past its due date and tick
            day = flow.app(app_id).deadline + timedelta(days=1)
            assert flow.tick(day).expired == [app_id], stage
            continue
        flow.act(app_id, stage, action, user, today=day, note=note, mark=mark)
    assert until in flow.app(app_id).stages, (until, flow.app(app_id).stages)
    return day
