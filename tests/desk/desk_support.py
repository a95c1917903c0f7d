"""Desk test support: submitted applications made through the engine, and page helpers."""

from __future__ import annotations

import re
from datetime import date
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import select

from formflow.calendars.workdays import load_calendar
from formflow.db.models import Account, Application, ApplicationFile, Event, Office
from formflow.files.storage import store
from formflow.packs.versions import load_pinned, pin
from formflow.workflow import engine

ROOT = Path(__file__).resolve().parents[2]
MATTER = "public-rental-housing"
MZ, JX = "meizhou-meijiang", "jiangxi"
HOME = {MZ: "441402001001", JX: "360102001"}
CITIZEN = {MZ: "mj-citizen-chen", JX: "jx-citizen-liqiang"}
CALENDAR = load_calendar(ROOT / "seeds" / "calendar")
_numbers = count(1)

#: A tiny valid PNG (1×1).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def sample_data(category: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "members": {"applicant": {"name": "陈志强", "id_number": "441402198803150314",
                                  "mobile": "13807530001", "marital_status": "married",
                                  "monthly_income": 1500}},
    }
    if category:
        data["category"] = {"applicant_category": category, "support_mode": "physical_allocation"}
    return data


def create(platform, pack: str = MZ, *, today: date, office: str | None = None,
           category: str | None = None, channel: str | None = None, data: dict | None = None,
           with_file: bool = False) -> int:
    """A submitted application of `pack` at `office`, pinned now and entered into the workflow."""
    with platform.sessions.begin() as s:
        where = s.get(Office, office or HOME[pack])
        applicant = s.scalar(select(Account).where(Account.username == CITIZEN[pack]))
        app = Application(
            number=f"D{today:%Y%m%d}{next(_numbers):05d}", pack=pack, matter=MATTER, status="draft",
            applicant_id=applicant.id, office_id=where.id, office_path=where.path,
            versions=pin(s, platform.packs, pack, MATTER), data=data if data is not None else sample_data(category),
            category=category, channel=channel,
        )
        s.add(app)
        s.flush()
        if with_file:
            stored = store(s, platform.storage, PNG, "image/png")
            ref = {"sha256": stored.sha256, "name": "身份证.png", "media_type": "image/png", "size": len(PNG)}
            data = dict(app.data)
            data["materials"] = {"id_card": [ref]}
            app.data = data
            s.add(ApplicationFile(application_id=app.id, material="id_card", sha256=stored.sha256,
                                  original_name="身份证.png", uploaded_by=applicant.id))
        engine.enter_workflow(s, app, applicant, calendar=CALENDAR, today=today)
        return app.id


def table_of(platform, app_id: int, stage: str) -> dict[str, Any]:
    with platform.sessions() as s:
        app = s.get(Application, app_id)
        pinned = load_pinned(s, app.versions)
        return pinned.table(pinned.workflow["stages"][stage]["table"])


def not_applicable(platform, app_id: int, stage: str, today: date = date(2026, 3, 2)) -> frozenset[str]:
    """Rows of the stage's table about materials the application neither requires nor provided."""
    from formflow.applications.drafts import checklist
    from formflow.reviews.tables import not_applicable_rows

    with platform.sessions() as s:
        app = s.get(Application, app_id)
        pinned = load_pinned(s, app.versions)
        table = pinned.table(pinned.workflow["stages"][stage]["table"])
        return not_applicable_rows(table, checklist(pinned, app.data or {}, today), app.data or {})


def marking_form(table: dict[str, Any], *, fail: tuple[str, int] | None = None, note: str | None = None,
                 skip: tuple[str, int] | None = None, na: frozenset[str] | set[str] = frozenset()) -> dict[str, str]:
    """Posted fields marking every criterion `pass` (one may fail or be left out; rows in `na`: `na`)."""
    out: dict[str, str] = {}
    for row in table["rows"]:
        no = str(row["no"])
        for i, _ in enumerate(row["criteria"]):
            if skip == (no, i):
                continue
            out[f"r{no}.c{i}"] = "na" if no in na else "fail" if fail == (no, i) else "pass"
        if fail and fail[0] == no and note:
            out[f"r{no}.note"] = note
    return out


def version_on(page: str, stage: str, action: str) -> int:
    form = re.search(rf'id="action-{stage}-{action}".*?</form>', page, re.S)
    assert form, f"no form for {stage}.{action}"
    return int(re.search(r'name="expected_version" value="(\d+)"', form.group(0)).group(1))


def events(platform, app_id: int) -> list[Event]:
    with platform.sessions() as s:
        return list(s.scalars(select(Event).where(Event.application_id == app_id).order_by(Event.id)))


def app_row(platform, app_id: int) -> Application:
    with platform.sessions() as s:
        return s.get(Application, app_id)
