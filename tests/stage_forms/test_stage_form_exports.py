"""A household fact (and so a roster column) may name a stage form value: `stage.<stage-id>.<field>`."""

from __future__ import annotations

from datetime import UTC, datetime

from sf_support import HOME, MATTER, MZ, StagePack, all_pass, write_household_fact, write_stage_form_pack
from sqlalchemy import select

from formflow.allocation.register import sync
from formflow.db.models import Account, Application, Event, Household, Office, ReviewMarking
from formflow.packs import load_packs
from formflow.packs.versions import load_pinned, pin


def test_the_verified_income_is_filed_with_the_household(config_copy, sqlite_platform):
    write_stage_form_pack(config_copy)
    write_household_fact(config_copy)
    packs = load_packs(config_copy)
    assert not packs.problems, packs.problems
    sqlite_platform.packs = packs
    sqlite_platform.root = config_copy
    sp = StagePack(sqlite_platform, datetime(2026, 3, 2).date())
    with sp.p.sessions.begin() as s:  # an application approved after the street entered 640 (chain skipped)
        office = s.get(Office, HOME)
        applicant = s.scalar(select(Account).where(Account.username == "mj-citizen-chen"))
        app = Application(
            number="SF0001", pack=MZ, matter=MATTER, status="closed", result="approved", applicant_id=applicant.id,
            office_id=office.id, office_path=office.path, versions=pin(s, packs, MZ, MATTER),
            data={"category": {"applicant_category": "lower-middle-income", "support_mode": "rental_subsidy"},
                  "members": {"applicant": {"name": "陈志强", "id_number": "441402198803150314",
                                            "monthly_income": 640}}},
            stages=["approved"], stage="approved", submitted_at=datetime(2026, 2, 1, tzinfo=UTC),
        )
        s.add(app)
        s.flush()
        table = load_pinned(s, app.versions).table("acceptance")
        s.add(ReviewMarking(application_id=app.id, stage="street_review", table_id="acceptance",
                            table_version=app.versions["tables"]["acceptance"],
                            marking={**all_pass(table), "form": {"verified_income": 640}}, outcome="pass",
                            reviewer_id=sp.account("mj-street").id))
        s.add(Event(application_id=app.id, action="approve", from_stage="leader_approval", to_stage="approved",
                    at=datetime(2026, 2, 20, 9, tzinfo=UTC), details={}))
        app_id = app.id
    assert sync(sp.p.sessions, packs, today=sp.today).created
    with sp.p.sessions() as s:
        filed = s.scalar(select(Household).where(Household.application_id == app_id))
    assert filed.facts["verified_income"] == 640
