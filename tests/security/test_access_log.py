"""Issue 7 — access log: viewing a full ID number or e-licence data (the household register) is recorded."""

from __future__ import annotations

import pytest
from sec_support import JX, MZ, TODAY, create
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from formflow.db.models import Account, Application
from formflow.personal.access_log import FULL_ID_NUMBER, record_access, records_of


def _account_id(p, username):
    with p.sessions() as s:
        return s.scalar(select(Account.id).where(Account.username == username))


def test_full_id_number_is_shown_once_and_recorded(sec):
    app_id = create(sec.p, MZ, today=TODAY)
    c = sec.client("mj-community")
    page = c.get(f"/desk/applications/{app_id}").get_data(as_text=True)
    assert "查看完整身份证号" in page and "441402198803150314" not in page
    r = c.post(f"/desk/applications/{app_id}/full-id-number", {}, token_from=f"/desk/applications/{app_id}")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    with sec.p.sessions() as s:
        number = sec.p.keys.open(s.get(Account, s.get(Application, app_id).applicant_id).id_number_enc)
        rows = records_of(s, app_id)
    assert f'id="full-id-number">{number}<' in r.get_data(as_text=True)
    assert [(x.account_id, x.what) for x in rows if x.what == FULL_ID_NUMBER] == [
        (_account_id(sec.p, "mj-community"), FULL_ID_NUMBER)]
    assert rows[-1].at is not None
    again = c.get(f"/desk/applications/{app_id}").get_data(as_text=True)
    assert number not in again  # once: the next view is masked again


def test_full_id_number_is_out_of_reach_for_others(sec):
    app_id = create(sec.p, MZ, today=TODAY, office="441402002001")
    for who in ("mj-street", "mj-citizen-chen", "jx-street-clerk"):
        c = sec.client(who)
        token_page = "/desk/" if who != "mj-citizen-chen" else "/portal/"
        r = c.post(f"/desk/applications/{app_id}/full-id-number", {}, token_from=token_page)
        assert r.status_code == 404, who
    with sec.p.sessions() as s:
        assert records_of(s, app_id) == []


def test_elicence_household_register_view_is_recorded(sec):
    data = {"members": {"applicant": {"basic": {"name": "王芳", "id_number": "36010219950410004X",
                                                "hukou_address": "南昌市东湖区示例路1号"}}},
            "materials": {"id_card": {"name": "王芳", "id_number": "36010219950410004X"},
                          "household_register": {"household_head": "王芳"}}}
    app_id = create(sec.p, JX, today=TODAY, data=data)
    c = sec.client("jx-street-clerk")
    assert c.get(f"/desk/applications/{app_id}").status_code == 200
    with sec.p.sessions() as s:
        whats = {r.what for r in records_of(s, app_id)}
    assert "elicence:hukou" in whats, whats


def test_access_records_cannot_be_changed_or_deleted(sec):
    app_id = create(sec.p, MZ, today=TODAY)
    with sec.p.sessions.begin() as s:
        record_access(s, _account_id(sec.p, "mj-community"), app_id, FULL_ID_NUMBER)
    for statement in ("UPDATE access_records SET what = 'nothing'", "DELETE FROM access_records"):
        with pytest.raises(DatabaseError, match="append-only"), sec.p.sessions.begin() as s:
            s.execute(text(statement))
    with sec.p.sessions() as s:
        assert [r.what for r in records_of(s, app_id)] == [FULL_ID_NUMBER]


@pytest.mark.postgres
def test_access_records_are_append_only_on_postgresql(postgres_platform):
    p = postgres_platform
    app_id = create(p, MZ, today=TODAY)
    with p.sessions() as s:
        who = s.scalar(select(Account.id).where(Account.username == "mj-community"))
    with p.sessions.begin() as s:
        record_access(s, who, app_id, FULL_ID_NUMBER)
    for statement in ("UPDATE access_records SET what = 'x'", "DELETE FROM access_records",
                      "TRUNCATE access_records"):
        with pytest.raises(DatabaseError, match="append-only"), p.sessions.begin() as s:
            s.execute(text(statement))
