"""Marking the table, guards, actions, rejection with notice, stale actions, the full chain."""

from __future__ import annotations

import re
from datetime import date

from desk_support import MZ, app_row, create, events, marking_form, not_applicable, table_of, version_on
from sqlalchemy import select

from formflow.db.models import Notice
from formflow.documents.pdf import pdf_text
from formflow.workflow.timers import tick
from support import notice_pdf

START = date(2026, 3, 2)


def _page(client, app_id: int) -> str:
    response = client.get(f"/desk/applications/{app_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _button(html: str, stage: str, action: str) -> str:
    found = re.search(rf'<button type="submit" id="act-{stage}-{action}"[^>]*>', html)
    assert found, f"no button {stage}.{action}"
    return found.group(0)


def _mark(desk, client, app_id: int, stage: str, **kw):
    kw.setdefault("na", not_applicable(desk.p, app_id, stage))  # what 全部符合 leaves 不适用
    path = f"/desk/applications/{app_id}/stages/{stage}/marking"
    return client.post(path, marking_form(table_of(desk.p, app_id, stage), **kw),
                       token_from=f"/desk/applications/{app_id}")


def _act(client, app_id: int, stage: str, action: str, *, note: str | None = None, confirmed: bool = False,
         version: int | None = None):
    html = _page(client, app_id)
    data = {"stage": stage, "action": action,
            "expected_version": str(version if version is not None else version_on(html, stage, action))}
    if note is not None:
        data["note"] = note
    if confirmed:
        data["confirmed"] = "1"
    return client.post(f"/desk/applications/{app_id}/act", data, token_from=f"/desk/applications/{app_id}")


def test_marking_validation_puts_messages_next_to_the_criterion(desk):
    app_id = create(desk.p, today=START)
    client = desk.client("mj-community")
    stage = "community_acceptance"

    refused = _mark(desk, client, app_id, stage, fail=("2", 1))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'id="m-community_acceptance-r2-note-error">选择“不符合”时须填写不符合的说明</p>' in html
    assert 'class="mrow has-error" id="m-community_acceptance-r2"' in html
    # what was chosen stays chosen
    assert 'id="m-community_acceptance-r2-c1-fail" checked' in html

    missing = _mark(desk, client, app_id, stage, skip=("3", 0))
    html = missing.get_data(as_text=True)
    assert missing.status_code == 400
    assert 'id="m-community_acceptance-r3-c0-error">请选择：符合、不符合或不适用</span>' in html
    assert [e.action for e in events(desk.p, app_id)] == ["submit"]  # nothing recorded

    saved = _mark(desk, client, app_id, stage, fail=("2", 1), note="身份证复印件已过有效期")
    assert saved.status_code == 302
    html = _page(client, app_id)
    assert "审查结论" in html and 'class="outcome-fail">不通过' in html
    assert "身份证复印件已过有效期" in html


def test_approve_is_disabled_until_the_table_passes(desk):
    app_id = create(desk.p, today=START)
    client = desk.client("mj-community")
    stage = "community_acceptance"
    html = _page(client, app_id)
    button = _button(html, stage, "accept")
    assert "disabled" in button
    assert 'id="why-community_acceptance-accept">尚未填写本环节的审查表《' in html

    _mark(desk, client, app_id, stage, fail=("1", 0), note="未盖章")
    html = _page(client, app_id)
    assert "disabled" in _button(html, stage, "accept")
    assert "审查表结论为“不通过”，此操作要求“通过”" in html
    # posting anyway is refused by the engine's guard, nothing moves
    refused = _act(client, app_id, stage, "accept")
    assert refused.status_code == 409
    assert app_row(desk.p, app_id).stages == [stage]

    _mark(desk, client, app_id, stage)
    html = _page(client, app_id)
    assert "disabled" not in _button(html, stage, "accept")
    done = _act(client, app_id, stage, "accept")
    assert done.status_code == 302 and done.headers["Location"].endswith("/desk/")
    assert app_row(desk.p, app_id).stages == ["street_review"]
    queue = client.get("/desk/").get_data(as_text=True)
    assert "已办理" in queue and "受理通知书" in queue


def test_rejection_asks_reason_and_confirmation_and_issues_the_notice(desk):
    app_id = create(desk.p, today=START)
    client = desk.client("mj-community")
    stage = "community_acceptance"

    no_reason = _act(client, app_id, stage, "reject", note="  ")
    assert no_reason.status_code == 400
    assert 'id="reason-community_acceptance-reject-error">请填写理由</p>' in no_reason.get_data(as_text=True)

    ask = _act(client, app_id, stage, "reject", note="申请人户籍不在本辖区")
    html = ask.get_data(as_text=True)
    assert ask.status_code == 200 and 'id="confirm-form"' in html and "不能撤销" in html
    assert app_row(desk.p, app_id).status == "active"  # not yet

    done = _act(client, app_id, stage, "reject", note="申请人户籍不在本辖区", confirmed=True)
    assert done.status_code == 302
    app = app_row(desk.p, app_id)
    assert (app.status, app.result) == ("closed", "not_accepted")
    with desk.p.sessions() as s:
        notice = s.scalar(select(Notice).where(Notice.application_id == app_id))
    assert notice.kind == "non-acceptance"
    text = pdf_text(notice_pdf(desk.p, notice.id))
    assert "申请人户籍不在本辖区" in text

    html = _page(client, app_id)
    assert "不予受理通知书" in html and "申请人户籍不在本辖区" in html
    download = client.get(f"/desk/applications/{app_id}/notices/{notice.id}")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    assert 'id="act-' not in html  # closed: no actions


def test_a_stale_action_is_refused_with_the_current_state(desk):
    app_id = create(desk.p, today=START)
    first, second = desk.client("mj-community"), desk.client("mj-community")
    stage = "community_acceptance"
    _mark(desk, first, app_id, stage)
    seen_by_second = version_on(_page(second, app_id), stage, "accept")

    assert _act(first, app_id, stage, "accept", version=seen_by_second).status_code == 302
    late = _act(second, app_id, stage, "accept", version=seen_by_second)
    html = late.get_data(as_text=True)
    assert late.status_code == 409
    assert 'id="stale-message"' in html and "该申请已被他人处理" in html and "街道初审" in html
    assert [e.action for e in events(desk.p, app_id) if e.action == "accept"] == ["accept"]


def test_files_are_served_only_within_reach_with_their_true_type(desk):
    app_id = create(desk.p, today=START, with_file=True)
    client = desk.client("mj-community")
    html = _page(client, app_id)
    url = re.search(r'<img src="(/desk/applications/\d+/files/[0-9a-f]{64})"', html).group(1)
    served = client.get(url)
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.headers["Content-Disposition"].startswith("inline")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'self'" in served.headers["Content-Security-Policy"]
    assert client.get(url + "?download=1").headers["Content-Disposition"].startswith("attachment")
    assert client.get(url[:-64] + "f" * 64).status_code == 404
    # need to know: the city office covers the district, but reads it only once it reaches the city
    assert desk.client("mj-leader").get(url).status_code == 404
    other = create(desk.p, today=START, office="441402002001")
    assert client.get(url.replace(f"/applications/{app_id}/", f"/applications/{other}/")).status_code == 404


def test_meizhou_full_path_through_the_desk(desk):
    """Submission to approval, every role acting through the web pages, the timer by tick."""
    desk.today = date(2026, 3, 3)
    app_id = create(desk.p, MZ, today=START, category="low-income", with_file=True)

    def step(username: str, stage: str, action: str, nxt: str, *, mark: bool = True) -> None:
        client = desk.client(username)
        assert f'id="queue-row-{app_id}"' in client.get("/desk/").get_data(as_text=True), username
        if mark:
            assert _mark(desk, client, app_id, stage).status_code == 302
        response = _act(client, app_id, stage, action, confirmed=True)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        assert app_row(desk.p, app_id).stages == [nxt], (username, stage)

    step("mj-community", "community_acceptance", "accept", "street_review")
    desk.today = date(2026, 3, 4)
    step("mj-street", "street_review", "approve", "public_notice")

    # public notice: the owner sees it, records and dismisses an objection
    street = desk.client("mj-street")
    html = _page(street, app_id)
    assert 'id="objections-public_notice"' in html
    assert "disabled" in _button(html, "public_notice", "uphold_objection")
    version = app_row(desk.p, app_id).version
    recorded = street.post(f"/desk/applications/{app_id}/stages/public_notice/objections",
                           {"note": "群众反映申请人有车辆", "expected_version": str(version)},
                           token_from=f"/desk/applications/{app_id}")
    assert recorded.status_code == 302
    html = _page(street, app_id)
    assert "群众反映申请人有车辆" in html and "待核实" in html
    assert "disabled" not in _button(html, "public_notice", "uphold_objection")
    objection_id = int(re.search(r'id="dismiss-(\d+)"', html).group(1))
    version = app_row(desk.p, app_id).version
    dismissed = street.post(f"/desk/applications/{app_id}/objections/{objection_id}/dismiss",
                            {"note": "经核实车辆已于申请前转让", "expected_version": str(version)},
                            token_from=f"/desk/applications/{app_id}")
    assert dismissed.status_code == 302

    report = tick(desk.p.sessions, today=date(2026, 3, 25), calendar=_calendar())
    assert report.expired == [app_id]
    desk.today = date(2026, 3, 26)
    step("mj-street", "street_forward", "forward", "civil_affairs_review", mark=False)
    desk.today = date(2026, 3, 27)
    for username, stage, nxt in [
        ("mj-civil-affairs", "civil_affairs_review", "housing_review"),
        ("mj-housing", "housing_review", "centre_review"),
        ("mj-centre", "centre_review", "section_approval"),
        ("mj-section", "section_approval", "leader_approval"),
        ("mj-leader", "leader_approval", "approved"),
    ]:
        step(username, stage, "approve", nxt)

    app = app_row(desk.p, app_id)
    assert (app.status, app.result) == ("closed", "approved")
    acted = [(e.action, e.actor_role) for e in events(desk.p, app_id) if e.action not in ("mark",)]
    assert acted == [
        ("submit", "citizen"), ("accept", "community_clerk"), ("approve", "street_reviewer"),
        ("record_objection", "street_reviewer"), ("dismiss_objection", "street_reviewer"), ("expire", None),
        ("forward", "street_reviewer"), ("approve", "civil_affairs_reviewer"),
        ("approve", "housing_bureau_reviewer"), ("approve", "centre_reviewer"),
        ("approve", "housing_security_section"), ("approve", "bureau_leader"),
    ]
    leader = desk.client("mj-leader")
    html = _page(leader, app_id)
    assert "符合住房保障条件通知书" in html and "已办结" in html
    assert "经核实车辆已于申请前转让" in html  # history keeps the notes
    assert f'id="queue-row-{app_id}"' not in leader.get("/desk/").get_data(as_text=True)


def _calendar():
    from desk_support import CALENDAR

    return CALENDAR
