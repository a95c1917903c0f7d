"""After submitting: the citizen answers a correction request and downloads the notices issued."""

from __future__ import annotations

import io
import re
from datetime import date

from portal_files import attach_fixture_files
from sqlalchemy import select
from test_pages import JX, _journey_to_wizard, _post, _sign_in_verified

from formflow.applications import drafts as apps
from formflow.calendars.workdays import pack_calendars
from formflow.db.models import Account, Application, ApplicationFile, Notice
from formflow.documents.pdf import pdf_text
from formflow.workflow import engine
from support import drain_outbox


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 32), (20, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def test_citizen_answers_a_correction_request_and_downloads_its_notice(web, sqlite_platform, jiangxi_ok):
    p = sqlite_platform
    _sign_in_verified(web, "jx-citizen-wangfang", "王芳", "36010219950410004X")
    app_id = int(re.search(r"/applications/(\d+)/", _journey_to_wizard(web, JX)).group(1))
    today = date(2026, 11, 2)
    calendar = pack_calendars(p.root)("jiangxi")
    with p.sessions.begin() as s:
        citizen = s.scalar(select(Account).where(Account.username == "jx-citizen-wangfang"))
        draft = s.get(Application, app_id)
        attach_fixture_files(s, p.storage, app_id)
        apps.save_draft(s, app_id, jiangxi_ok, actor=citizen, expected_version=draft.version)
        submitted = apps.submit(s, app_id, actor=citizen, expected_version=s.get(Application, app_id).version,
                                token="t-1", keys=p.keys, today=today, calendar=calendar)
        start = submitted.stage
    with p.sessions.begin() as s:
        clerk = s.scalar(select(Account).where(Account.username == "jx-street-clerk"))
        app = s.get(Application, app_id)
        engine.perform(s, app_id, stage=start, action="request_correction", actor=clerk,
                       note="收入证明缺少单位盖章", expected_version=app.version, calendar=calendar, today=today,
                       storage=p.storage, renderers=p.root / "renderers", materials=["income_certificate"],
                       keys=p.keys)

    page = web.get(f"/portal/applications/{app_id}").get_data(as_text=True)
    assert 'id="correction"' in page and "收入证明缺少单位盖章" in page
    field = re.search(r'name="file:([^"]+)"', page).group(1)
    notice_link = re.search(r'href="(/portal/notices/\d+\.pdf)"', page).group(1)
    # numbered in the transition, rendered after commit by the outbox: until then 生成中 and a 409, never a 500
    assert "生成中" in page
    early = web.get(notice_link)
    assert early.status_code == 409 and early.headers["Retry-After"] and "正在生成" in early.get_data(as_text=True)
    assert drain_outbox(web) >= 1  # the notice (and the SMS of the citizen's message)
    assert "生成中" not in web.get(f"/portal/applications/{app_id}").get_data(as_text=True)
    pdf = web.get(notice_link)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert "材料补正告知书" in text and "收入证明缺少单位盖章" in text

    version = re.search(r'name="_version" value="(\d+)"', page).group(1)
    answered = _post(web, f"/portal/applications/{app_id}/correction",
                     {"_version": version, "note": "已补盖章", f"file:{field}": (io.BytesIO(_png()), "证明.png")},
                     page=f"/portal/applications/{app_id}", content_type="multipart/form-data")
    assert answered.status_code == 302
    with p.sessions() as s:
        app = s.get(Application, app_id)
        assert app.awaiting is None and app.stage == start, "back with the reviewer, at the same stage"
        assert s.scalar(select(ApplicationFile).where(ApplicationFile.application_id == app_id,
                                                      ApplicationFile.original_name == "证明.png"))
    assert 'id="correction"' not in web.get(f"/portal/applications/{app_id}").get_data(as_text=True)


def test_another_citizen_cannot_download_the_notice(web, sqlite_platform, jiangxi_ok):
    test_citizen_answers_a_correction_request_and_downloads_its_notice(web, sqlite_platform, jiangxi_ok)
    with sqlite_platform.sessions() as s:
        notice_id = s.scalar(select(Notice.id))
    web.post("/auth/logout", token_from="/")
    web.login("jx-citizen-liqiang")
    assert web.get(f"/portal/notices/{notice_id}.pdf").status_code == 404
