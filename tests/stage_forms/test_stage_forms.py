"""Stage forms: a reviewer enters the verified income and the visit date with the street review's marking.

Driven through the desk and the reviewer API of a copy of the Meizhou pack whose
street review declares a form and whose approval is guarded by the verified income.
"""

from __future__ import annotations

import re

from sf_support import desk_marking

from formflow.db.models import OutboxMessage

STAGE = "street_review"


def _mark_on_desk(sp, app_id: int, **fields: str):
    desk = sp.desk("mj-street")
    data = desk_marking(sp.table(app_id), **fields)
    return desk, desk.post(f"/desk/applications/{app_id}/stages/{STAGE}/marking", data)


def test_desk_shows_the_stage_form_with_the_table(stage_pack):
    app_id = stage_pack.at_street()
    page = stage_pack.desk("mj-street").get(f"/desk/applications/{app_id}").get_data(as_text=True)
    form = page.split(f'id="marking-{STAGE}"', 1)[1].split("</form>", 1)[0]
    assert 'name="f.verified_income"' in form and "核定家庭人均月收入（元）" in form
    assert 'type="date"' in form and "入户调查日期" in form
    assert 'name="f.household_visited"' in form


def test_invalid_value_is_refused_at_its_field_and_nothing_is_stored(stage_pack):
    app_id = stage_pack.at_street()
    before = len(stage_pack.events(app_id))
    _desk, r = _mark_on_desk(stage_pack, app_id, verified_income="-5", appointment="2026-02-30")
    assert r.status_code == 400 and r.headers["X-Refusal-Code"] == "marking_invalid"
    page = r.get_data(as_text=True)
    income_error = re.search(r'id="sf-street_review-verified_income-error">([^<]*)<', page).group(1)
    assert "核定家庭人均月收入（元）" in income_error and "0" in income_error
    date_error = re.search(r'id="sf-street_review-appointment-error">([^<]*)<', page).group(1)
    assert "入户调查日期" in date_error
    assert 'value="-5"' in page and 'value="2026-02-30"' in page  # what was typed is shown again
    assert stage_pack.markings(app_id) == [] and len(stage_pack.events(app_id)) == before

    _desk, r = _mark_on_desk(stage_pack, app_id)  # the required value left out
    assert r.status_code == 400
    missing = re.search(r'id="sf-street_review-verified_income-error">([^<]*)<', r.get_data(as_text=True))
    assert missing and "核定家庭人均月收入（元）" in missing.group(1) and "必填" in missing.group(1)
    assert stage_pack.markings(app_id) == []


def test_valid_values_are_stored_with_the_marking_and_shown_in_the_history(stage_pack):
    app_id = stage_pack.at_street()
    desk, r = _mark_on_desk(stage_pack, app_id, verified_income="850.5", appointment="2026-02-27",
                            household_visited="true")
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    [saved] = stage_pack.markings(app_id)
    assert saved.marking["form"] == {"verified_income": 850.5, "appointment": "2026-02-27",
                                     "household_visited": True}
    mark = [e for e in stage_pack.events(app_id) if e.action == "mark" and e.from_stage == STAGE][-1]
    assert mark.details["marking"] == saved.id  # one transaction: the event names its marking
    page = desk.get(f"/desk/applications/{app_id}").get_data(as_text=True)
    shown = page.split(f'id="event-{mark.id}-values"', 1)[1].split("</dl>", 1)[0]
    assert "核定家庭人均月收入（元）" in shown and "850.50 元" in shown
    assert "入户调查日期" in shown and "2026-02-27" in shown and "是" in shown
    form = page.split(f'id="marking-{STAGE}"', 1)[1].split("</form>", 1)[0]
    assert 'value="850.5"' in form  # the desk shows the saved values to change


def test_a_guard_reads_the_verified_income_and_routes_the_application(stage_pack):
    app_id = stage_pack.at_street()
    desk, r = _mark_on_desk(stage_pack, app_id, verified_income="1200")
    assert r.status_code == 302
    version = stage_pack.application(app_id).version
    r = desk.post(f"/desk/applications/{app_id}/act",
                  {"stage": STAGE, "action": "approve", "expected_version": str(version)})
    assert r.status_code == 409  # above the subsistence line (900): approving is not open
    assert stage_pack.application(app_id).stages == [STAGE]

    desk, r = _mark_on_desk(stage_pack, app_id, verified_income="880")
    assert r.status_code == 302
    version = stage_pack.application(app_id).version
    r = desk.post(f"/desk/applications/{app_id}/act",
                  {"stage": STAGE, "action": "approve", "expected_version": str(version)})
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    assert stage_pack.application(app_id).stages == ["public_notice"]


def test_a_notice_gets_the_stage_values(stage_pack):
    app_id = stage_pack.at_street()
    desk, r = _mark_on_desk(stage_pack, app_id, verified_income="1200")
    assert r.status_code == 302
    version = stage_pack.application(app_id).version
    r = desk.post(f"/desk/applications/{app_id}/act", {"stage": STAGE, "action": "reject", "note": "收入超标",
                                                       "expected_version": str(version), "confirmed": "1"})
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    with stage_pack.p.sessions() as s:
        rendered = [m.payload for m in s.query(OutboxMessage).filter(OutboxMessage.kind == "render_notice")]
    assert rendered[-1]["context"]["stage_values"] == {STAGE: {"verified_income": 1200}}


def test_api_marks_with_values_refuses_bad_ones_and_returns_them(stage_pack):
    app_id = stage_pack.at_street()
    api, auth = stage_pack.api("mj-street")
    path = f"/api/v1/review/applications/{app_id}/stages/{STAGE}/marking"
    got = api.get(path, headers=auth)
    assert got.status_code == 200 and got.json["form"]["properties"]["verified_income"]["minimum"] == 0
    rows = {"rows": {str(r["no"]): {"criteria": ["pass"] * len(r["criteria"])}
                     for r in stage_pack.table(app_id)["rows"]}}

    bad = api.put(path, json={"marking": {**rows, "form": {"verified_income": "很多"}}}, headers=auth)
    assert bad.status_code == 422 and bad.json["error"]["code"] == "marking_invalid"
    [problem] = bad.json["error"]["fields"]
    assert problem["pointer"] == "/marking/form/verified_income" and "核定家庭人均月收入（元）" in problem["message"]
    assert stage_pack.markings(app_id) == []

    ok = api.put(path, json={"marking": {**rows, "form": {"verified_income": 640, "appointment": "2026-02-26"}}},
                 headers=auth)
    assert ok.status_code == 200, ok.get_data(as_text=True)
    assert ok.json["form"] == {"verified_income": 640, "appointment": "2026-02-26"}

    view = api.get(f"/api/v1/review/applications/{app_id}", headers=auth).json
    [entered] = view["stage_values"]
    assert entered["stage"] == STAGE and entered["values"] == {"verified_income": 640, "appointment": "2026-02-26"}
    assert {"title": "核定家庭人均月收入（元）", "text": "640.00 元"} in entered["shown"]

    version = api.get(f"/api/v1/review/applications/{app_id}/actions", headers=auth).json["version"]
    moved = api.post(f"/api/v1/review/applications/{app_id}/actions",
                     json={"stage": STAGE, "action": "approve", "version": version}, headers=auth)
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert [st["id"] for st in moved.json["stages"]] == ["public_notice"]
