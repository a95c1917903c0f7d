"""The approval form (审批表) from the desk and the applicant's copy (申请表) from 我的申请, read back."""

from __future__ import annotations

import re
from datetime import date

from desk_support import MZ, create

from formflow.documents.pdf import pdf_text

START = date(2026, 3, 2)
DOUBLED = re.compile(r"([\u4e00-\u9fff]{2,})\1")


def flat(text: str) -> str:
    return "".join(text.split())


def doubled(text: str) -> list[str]:
    """Words said twice in a row within one printed line (a heading above a same-named field is fine)."""
    return [m.group(0) for line in text.splitlines() if (m := DOUBLED.search("".join(line.split())))]


def _reject(client, app_id: int, note: str) -> None:
    page = f"/desk/applications/{app_id}"
    html = client.get(page).get_data(as_text=True)
    version = re.search(r'name="expected_version" value="(\d+)"', html).group(1)
    done = client.post(f"{page}/act", {"stage": "community_acceptance", "action": "reject", "note": note,
                                       "expected_version": version, "confirmed": "1"}, token_from=page)
    assert done.status_code == 302


def test_approval_form_is_prefilled_with_the_opinions_so_far(desk):
    app_id = create(desk.p, MZ, today=START, category="lower-middle-income")
    client = desk.client("mj-community")
    before = client.get(f"/desk/applications/{app_id}/approval-form.pdf")
    assert before.status_code == 200 and before.mimetype == "application/pdf"
    assert "尚无审核意见" in flat(pdf_text(before.data))
    assert "approval-form.pdf" in client.get(f"/desk/applications/{app_id}").get_data(as_text=True)

    _reject(client, app_id, "申请人户籍不在本辖区")
    response = client.get(f"/desk/applications/{app_id}/approval-form.pdf")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert re.search(r'filename="[ -~]*\.pdf"', disposition) and "filename*=UTF-8''" in disposition
    raw = pdf_text(response.data)
    text = flat(raw)
    assert "梅州城区公共租赁住房申请审批表" in text
    for needle in ("陈志强", "社区受理", "申请人户籍不在本辖区", "审核审批意见"):
        assert needle in text, needle
    assert "441402198803150314" not in text  # masked
    assert not doubled(raw)


def test_approval_form_is_for_staff_in_reach_only(desk):
    app_id = create(desk.p, MZ, today=START)
    citizen = desk.client("mj-citizen-chen")
    assert citizen.get(f"/desk/applications/{app_id}/approval-form.pdf").status_code != 200
    assert desk.client("mj-community").get(f"/desk/applications/{app_id}/approval-form.pdf").status_code == 200


def test_the_applicant_downloads_a_copy_of_what_they_submitted(desk):
    app_id = create(desk.p, MZ, today=START)
    mine = desk.client("mj-citizen-chen")
    assert "application.pdf" in mine.get(f"/portal/applications/{app_id}").get_data(as_text=True)
    response = mine.get(f"/portal/applications/{app_id}/application.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].endswith(".pdf")
    raw = pdf_text(response.data)
    text = flat(raw)
    assert "梅州城区公共租赁住房申请表" in text and "陈志强" in text and "13807530001" not in text
    assert not doubled(raw)
    other = desk.client("jx-citizen-liqiang")
    assert other.get(f"/portal/applications/{app_id}/application.pdf").status_code == 404


def test_the_window_clerk_prints_the_receipt_with_materials_and_the_answer_date(desk):
    from sqlalchemy import select

    from formflow.db.models import Account, Application

    app_id = create(desk.p, MZ, today=START, with_file=True, category="lower-middle-income")
    with desk.p.sessions.begin() as s:
        clerk = s.scalar(select(Account).where(Account.username == "mj-window"))
        app = s.get(Application, app_id)
        app.assisted_by_id = clerk.id
        deadline = app.deadline
    window = desk.client("mj-window")
    assert "receipt.pdf" in window.get("/portal/window").get_data(as_text=True)
    response = window.get(f"/portal/window/{app_id}/receipt.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].endswith(".pdf")
    raw = pdf_text(response.data)
    text = flat(raw)
    assert "收件凭证" in text and "陈志强" in text and "身份证" in text  # a material received
    assert deadline is not None and f"{deadline.year}年{deadline.month}月{deadline.day}日前告知" in text
    assert "441402198803150314" not in text and not doubled(raw)
    # another clerk's or a citizen's request finds nothing
    assert desk.client("mj-citizen-chen").get(f"/portal/window/{app_id}/receipt.pdf").status_code != 200
