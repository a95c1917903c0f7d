"""A submitted 梅江 application with a household (applicant, spouse, child) and its data."""

from __future__ import annotations

import shutil
from datetime import date
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import select
from wf_support import HOME, MATTER, MZ, ROOT

from formflow.db.models import Account, Application, Office
from formflow.packs.versions import pin
from formflow.workflow import engine

APPLICANT, APPLICANT_ID = "陈志强", "441402198803150314"
SPOUSE, SPOUSE_ID = "李秀梅", "441402199001020027"
CHILD, CHILD_ID = "陈子轩", "441402201505060012"
_numbers = count(1)


def household_data() -> dict[str, Any]:
    return {
        "category": {"applicant_category": "lower-middle-income", "support_mode": "physical_allocation"},
        "members": {
            "applicant": {"name": APPLICANT, "id_number": APPLICANT_ID, "mobile": "13807530001",
                          "monthly_income": 3000},
            "co_applicants": [
                {"name": SPOUSE, "id_number": SPOUSE_ID, "relation": "spouse", "monthly_income": 1500},
                {"name": CHILD, "id_number": CHILD_ID, "relation": "child", "monthly_income": 0},
            ],
        },
        "housing": {"current_address": "梅江区金山街道江北路1号", "owns_property": False,
                    "current_housing": f"借住亲友住房（房主身份证{SPOUSE_ID}）"},
    }


def create(flow: Any, today: date, data: dict[str, Any] | None = None) -> int:
    """A submitted application of the 梅江 pack by 陈志强, with the household above."""
    with flow.p.sessions.begin() as s:
        where = s.get(Office, HOME[MZ])
        applicant = s.scalar(select(Account).where(Account.username == "mj-citizen-chen"))
        app = Application(
            number=f"H{today:%Y%m%d}{next(_numbers):05d}", pack=MZ, matter=MATTER, status="draft",
            applicant_id=applicant.id, office_id=where.id, office_path=where.path,
            versions=pin(s, flow.packs, MZ, MATTER), data=data if data is not None else household_data(),
            category="lower-middle-income",
        )
        s.add(app)
        s.flush()
        engine.enter_workflow(s, app, applicant, calendar=flow.calendar, today=today)
        return app.id


def copy_config(dest: Path) -> Path:
    """A private copy of the shipped configuration under `dest`, to change on purpose."""
    for name in ("schemas", "workflows", "seeds", "renderers"):
        shutil.copytree(ROOT / name, dest / name)
    return dest
