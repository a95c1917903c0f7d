"""Allocation test support: approved households made quickly, engine steps, the web app with `housing`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import select

from formflow.allocation.config import allocation_of
from formflow.allocation.register import sync
from formflow.calendars.workdays import load_calendar
from formflow.db.models import Account, Application, Event, Household, Office
from formflow.packs.versions import load_pinned, pin
from formflow.reviews.tables import record_marking
from formflow.workflow import engine

ROOT = Path(__file__).resolve().parents[2]
MZ = "meizhou-meijiang"
MATTER = "public-rental-housing"
HOME = "441402001001"
CALENDAR = load_calendar(ROOT / "seeds" / "calendar")
FLAT, SUBSIDY = "physical_allocation", "rental_subsidy"
_numbers = count(1)


def alloc(platform):
    return allocation_of(platform.packs, MZ, MATTER)


def approved(platform, *, on: date, mode: str, size: int = 3, income: float = 1500, area: float = 0,
             name: str = "陈志强", id_number: str = "441402198803150314", username: str = "mj-citizen-chen") -> int:
    """An application closed `approved` on `on` (a shortcut past the approval chain)."""
    data: dict[str, Any] = {
        "category": {"applicant_category": "lower-middle-income", "support_mode": mode},
        "members": {"applicant": {"name": name, "id_number": id_number, "monthly_income": income},
                    "co_applicants": [{"name": f"成员{i}", "monthly_income": 0} for i in range(size - 1)]},
        "housing": {"owned_housing_area_total": area},
    }
    with platform.sessions.begin() as s:
        office = s.get(Office, HOME)
        applicant = s.scalar(select(Account).where(Account.username == username))
        app = Application(
            number=f"A{on:%Y%m%d}{next(_numbers):05d}", pack=MZ, matter=MATTER, status="closed", result="approved",
            applicant_id=applicant.id, office_id=office.id, office_path=office.path,
            versions=pin(s, platform.packs, MZ, MATTER), data=data, stages=["approved"], stage="approved",
            category="lower-middle-income", submitted_at=datetime(on.year, on.month, 1, tzinfo=UTC),
        )
        s.add(app)
        s.flush()
        s.add(Event(application_id=app.id, action="approve", from_stage="leader_approval", to_stage="approved",
                    at=datetime(on.year, on.month, on.day, 9, tzinfo=UTC), details={}))
        return app.id


def filed(platform, today: date) -> list[str]:
    return sync(platform.sessions, platform.packs, today=today).created


def household(platform, app_id: int) -> Household:
    with platform.sessions() as s:
        return s.scalar(select(Household).where(Household.application_id == app_id))


def account(platform, username: str) -> Account:
    found = platform.account(username)
    assert found is not None, username
    return found


def mark(platform, app_id: int, stage: str, username: str, *, verdict: str = "pass") -> None:
    with platform.sessions.begin() as s:
        app = s.get(Application, app_id)
        pinned = load_pinned(s, app.versions)
        table_id = pinned.workflow["stages"][stage]["table"]
        rows = {}
        for row in pinned.table(table_id)["rows"]:
            entry: dict[str, Any] = {"criteria": [verdict] * len(row["criteria"])}
            if verdict == "fail":
                entry["note"] = "经信息核查，家庭收入已超过保障标准"
            rows[str(row["no"])] = entry
        record_marking(s, app, stage, table_id, {"rows": rows}, account(platform, username), pinned)


def act(platform, app_id: int, stage: str, action: str, username: str, *, today: date, note: str | None = None):
    with platform.sessions.begin() as s:
        version = s.get(Application, app_id).version
        return engine.perform(s, app_id, stage=stage, action=action, actor=account(platform, username), note=note,
                              expected_version=version, calendar=CALENDAR, today=today, storage=platform.storage,
                              renderers=platform.root / "renderers", keys=platform.keys)


def web_app(platform, today: date):
    """The web app with the `housing` blueprint (registered here until app.py lists it)."""
    from support import make_web_app

    app = make_web_app(platform)
    if "housing" not in app.blueprints:
        from formflow.web import housing

        app.register_blueprint(housing.bp)
    app.extensions["formflow.services"].clock.fixed_today = today
    return app
