"""Service-level tests of formflow.applications.drafts on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from portal_files import attach_fixture_files
from sqlalchemy import func, select

from formflow.applications import drafts as apps
from formflow.db.models import Account, Application, Event, HouseholdMember, Office

PACK, MATTER = "jiangxi", "public-rental-housing"
TODAY = date(2026, 3, 2)


def _account(s, username):
    return s.scalar(select(Account).where(Account.username == username))


def _office(s, pack=PACK):
    return apps.selectable_offices(s, pack)[0].id


def _draft(p, username="jx-citizen-wangfang", data=None):
    with p.sessions.begin() as s:
        acc = _account(s, username)
        app = apps.start_draft(s, p.packs, applicant=acc, pack=PACK, matter=MATTER, office_id=_office(s),
                               channel="jxzwfw")
        if data is not None:
            attach_fixture_files(s, p.storage, app.id)
            app = apps.save_draft(s, app.id, data, actor=acc, expected_version=app.version, today=TODAY)
        return app.id, app.version


def test_draft_saves_and_resumes(platform_db):
    p = platform_db
    app_id, version = _draft(p)
    with p.sessions.begin() as s:
        acc = _account(s, "jx-citizen-wangfang")
        data = copy.deepcopy(s.get(Application, app_id).data)
        data["category"] = {"applicant_category": "urban-low-income"}
        saved = apps.save_draft(s, app_id, data, actor=acc, expected_version=version, step="members", today=TODAY)
        assert saved.status == "draft"
    with p.sessions() as s:  # "another device": a fresh session finds the same draft
        acc = _account(s, "jx-citizen-wangfang")
        again = apps.find_draft(s, acc.id, PACK, MATTER)
        assert again.id == app_id
        assert again.data["category"]["applicant_category"] == "urban-low-income"
        assert again.current_step == "members"
        assert again.category == "urban-low-income"
        actions = s.scalars(select(Event.action).where(Event.application_id == app_id).order_by(Event.id)).all()
        assert actions == ["draft_created", "draft_saved"]


def test_start_draft_returns_the_open_one(platform_db):
    a, _ = _draft(platform_db)
    b, _ = _draft(platform_db)
    assert a == b


def test_stale_save_is_refused_and_changes_nothing(platform_db):
    p = platform_db
    app_id, version = _draft(p)
    with p.sessions.begin() as s:
        acc = _account(s, "jx-citizen-wangfang")
        apps.save_draft(s, app_id, {"category": {"guarantee_mode": "rent_subsidy"}}, actor=acc,
                        expected_version=version, today=TODAY)
    with p.sessions.begin() as s, pytest.raises(apps.StaleDraft) as info:
        acc = _account(s, "jx-citizen-wangfang")
        apps.save_draft(s, app_id, {"category": {"guarantee_mode": "rental_in_kind"}}, actor=acc,
                        expected_version=version, today=TODAY)
    assert "其他页面或设备" in info.value.message
    with p.sessions() as s:
        assert s.get(Application, app_id).data["category"]["guarantee_mode"] == "rent_subsidy"


def test_step_validation_only_reports_that_step(sqlite_platform):
    p = sqlite_platform
    app_id, _ = _draft(p)
    with p.sessions() as s:
        pinned = apps.pinned_of(s, s.get(Application, app_id))
        data = {"category": {"guarantee_mode": "rental_in_kind", "applicant_category": "urban-low-income"}}
        assert apps.step_errors(pinned, data, "category") == []
        members = apps.step_errors(pinned, data, "members")
        assert members and all(e.pointer.startswith("/members") for e in members)
        assert apps.step_errors(pinned, {}, "category")[0].message.endswith("必填")


def test_missing_spouse_is_reported_on_the_spouse_field(sqlite_platform, jiangxi_ok):
    p = sqlite_platform
    app_id, _ = _draft(p)
    data = jiangxi_ok
    data["members"]["applicant"]["basic"]["marital_status"] = "married"
    with p.sessions() as s:
        pinned = apps.pinned_of(s, s.get(Application, app_id))
        errors = apps.step_errors(pinned, data, "members")
        assert [e.pointer for e in errors] == ["/members/co_applicants"]
        data["members"]["co_applicants"] = [{"relation": "child"}]
        errors = {e.pointer: e.message for e in apps.step_errors(pinned, data, "members")}
        assert "配偶" in errors["/members/co_applicants"]


def test_wrong_id_number_message(sqlite_platform, jiangxi_ok):
    p = sqlite_platform
    app_id, _ = _draft(p)
    data = jiangxi_ok
    data["members"]["applicant"]["basic"]["id_number"] = "360102199504100041"
    with p.sessions() as s:
        pinned = apps.pinned_of(s, s.get(Application, app_id))
        errors = {e.pointer: e.message for e in apps.step_errors(pinned, data, "members")}
    assert errors == {"/members/applicant/basic/id_number": "公民身份号码校验位不正确"}


def test_hidden_branch_is_kept_in_draft_but_not_validated(sqlite_platform, jiangxi_ok):
    p = sqlite_platform
    app_id, _ = _draft(p)
    data = jiangxi_ok
    data["assets"]["vehicles"] = [{"plate": "bad"}]  # typed while 有车 was 是, then switched to 否
    with p.sessions() as s:
        pinned = apps.pinned_of(s, s.get(Application, app_id))
        assert apps.step_errors(pinned, data, "assets") == []
        data["assets"]["has_vehicle"] = True
        assert apps.step_errors(pinned, data, "assets")


def _submit(p, app_id, token="t-1", username="jx-citizen-wangfang"):
    with p.sessions.begin() as s:
        acc = _account(s, username)
        app = apps.submit(s, app_id, actor=acc, expected_version=None, token=token, keys=p.keys, today=TODAY)
        return app.status, app.number


def test_submit_is_idempotent(platform_db, jiangxi_ok):
    p = platform_db
    app_id, _ = _draft(p, data=jiangxi_ok)
    first = _submit(p, app_id)
    assert first[0] == "active" and first[1]
    assert _submit(p, app_id) == first  # double click / retry with the same token
    with pytest.raises(apps.AlreadySubmitted):
        _submit(p, app_id, token="other")
    with p.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(
            Event.application_id == app_id, Event.action == "submit")) == 1
        assert s.scalar(select(func.count()).select_from(HouseholdMember).where(
            HouseholdMember.application_id == app_id)) == 1
        app = s.get(Application, app_id)
        assert app.stages  # entered the workflow


def test_checklist_enforced(platform_db, jiangxi_ok):
    p = platform_db
    data = jiangxi_ok
    del data["materials"]["uploads"]["income_certificate"]
    app_id, _ = _draft(p, data=data)
    with pytest.raises(apps.Incomplete) as info:
        _submit(p, app_id)
    pointers = {e.pointer: e.message for e in info.value.errors}
    assert "/materials/uploads/income_certificate" in pointers
    assert "收入证明" in pointers["/materials/uploads/income_certificate"]
    with p.sessions() as s:
        assert s.get(Application, app_id).status == "draft"


def test_duplicate_household_refused_with_masked_id(platform_db, jiangxi_ok):
    p = platform_db
    first, _ = _draft(p, data=jiangxi_ok)
    _submit(p, first)
    # another account lists the same person as a co-applicant
    other = copy.deepcopy(jiangxi_ok)
    other["members"]["applicant"]["basic"].update(name="李强", id_number="360102198803150018")
    other["members"]["co_applicants"] = [{
        "relation": "other",
        "basic": {"name": "王芳", "id_number": "36010219950410004X", "gender": "female",
                  "marital_status": "unmarried", "hukou_address": "南昌"},
        "employment": {"employment_status": "flexible", "monthly_income": 0},
        "residence": {"current_address": "南昌", "residence_type": "other", "housing_area": 0},
    }]
    second, _ = _draft(p, username="jx-citizen-liqiang", data=other)
    with pytest.raises(apps.DuplicateHousehold) as info:
        _submit(p, second, username="jx-citizen-liqiang")
    assert "王芳" in info.value.message
    assert "3601**********004X" in info.value.message
    assert "36010219950410004X" not in info.value.message


def test_withdraw_draft_keeps_history(sqlite_platform):
    p = sqlite_platform
    app_id, version = _draft(p)
    with p.sessions.begin() as s:
        apps.withdraw(s, app_id, actor=_account(s, "jx-citizen-wangfang"), expected_version=version)
    with p.sessions() as s:
        app = s.get(Application, app_id)
        assert (app.status, app.result) == ("closed", "withdrawn")
        assert s.scalars(select(Event.action).where(Event.application_id == app_id)).all()[-1] == "withdrawn"


def test_region_must_be_selectable(sqlite_platform):
    p = sqlite_platform
    with p.sessions.begin() as s:
        bureau = s.scalar(select(Office).where(Office.pack == PACK, Office.selectable.is_(False)))
        with pytest.raises(apps.ApplicationError):
            apps.start_draft(s, p.packs, applicant=_account(s, "jx-citizen-wangfang"), pack=PACK, matter=MATTER,
                             office_id=bureau.id, channel=None)


def test_precheck_lists_conditions_with_values(sqlite_platform, jiangxi_ok):
    p = sqlite_platform
    app_id, _ = _draft(p, data=jiangxi_ok)
    with p.sessions() as s:
        pinned = apps.pinned_of(s, s.get(Application, app_id))
        check = apps.precheck(pinned, jiangxi_ok, TODAY)
    assert check.eligibility is not None
    income = next(c for c in check.eligibility.conditions if c.id == "income")
    assert income.shown["computed.per_capita_income"] == 1200
    assert income.holds is not None
    assert any(title == "家庭人口" for title, _v, _u in check.computed)
