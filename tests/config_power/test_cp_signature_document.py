"""The signature field names the document it signs (`x-document`), in any pack."""

from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import select

from formflow.db.models import Account, Application, Office
from formflow.packs.versions import pin
from formflow.personal.crypto import install
from support import WebClient, make_web_app

FORM = "schemas/jiangxi/public-rental-housing/form.schema.json"
JX, MATTER = "jiangxi", "public-rental-housing"
CITIZEN = "jx-citizen-liqiang"


def _signature_field(root) -> tuple[dict, dict]:
    path = root / FORM
    form = json.loads(path.read_text(encoding="utf-8"))
    return form, form["properties"]["assets"]["properties"]["authorization"]["properties"]["signature"]


def _write(root, form: dict) -> None:
    (root / FORM).write_text(json.dumps(form, ensure_ascii=False, indent=2), encoding="utf-8")


def _add_document(edited) -> None:
    """A second signed document of the matter, with its own template (a copy of the letter's)."""
    edited.edit("schemas/jiangxi/pack.yaml", lambda c: next(m for m in c["matters"] if m["id"] == MATTER)[
        "documents"].append({"id": "personal-information-consent", "title": "个人信息查询授权书"}))
    docs = edited.root / "renderers" / "documents"
    shutil.copyfile(docs / "authorization-letter.html", docs / "personal-information-consent.html")


@pytest.fixture
def portal(edited, loaded_sqlite, copied_platform, tmp_path):
    def make(document: dict | None):
        _add_document(edited)
        if document is not None:
            form, field = _signature_field(edited.root)
            field["x-document"] = document
            _write(edited.root, form)
        template, _packs = loaded_sqlite
        platform = copied_platform(template, edited.load(), edited.root, tmp_path / "instance")
        install(platform.keys)  # the data keys the web app opens the application's data with
        with platform.sessions.begin() as s:
            office = s.get(Office, "360102001")
            applicant = s.scalar(select(Account).where(Account.username == CITIZEN))
            app = Application(number="TSIGN0001", pack=JX, matter=MATTER, status="draft",
                              applicant_id=applicant.id, office_id=office.id, office_path=office.path,
                              versions=pin(s, platform.packs, JX, MATTER),
                              data={"assets": {"authorization": {"signing_method": "handwritten"}}})
            s.add(app)
            s.flush()
            app_id = app.id
        web = WebClient(make_web_app(platform))
        assert web.login(CITIZEN).status_code in (200, 302)
        return web, app_id

    return make


def test_the_signature_field_offers_the_document_it_names(portal):
    web, app_id = portal({"document": "personal-information-consent"})
    page = web.get(f"/portal/applications/{app_id}/step/assets").get_data(as_text=True)
    assert "下载《个人信息查询授权书》（PDF）" in page
    assert "下载《授权承诺书》（PDF）" not in page  # (the pack's own help text may still name the letter)
    assert f"/portal/applications/{app_id}/authorization-letter.pdf?document=personal-information-consent" in page
    pdf = web.get(f"/portal/applications/{app_id}/authorization-letter.pdf?document=personal-information-consent")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert web.get(f"/portal/applications/{app_id}/authorization-letter.pdf?document=no-such").status_code == 404


def test_the_field_may_give_its_own_title(portal):
    web, app_id = portal({"document": "personal-information-consent", "title": "查询授权书"})
    page = web.get(f"/portal/applications/{app_id}/step/assets").get_data(as_text=True)
    assert "下载《查询授权书》（PDF）" in page


def test_without_x_document_the_letter_is_offered_as_before(portal):
    web, app_id = portal(None)
    page = web.get(f"/portal/applications/{app_id}/step/assets").get_data(as_text=True)
    assert "下载《授权承诺书》（PDF）" in page
    assert f'href="/portal/applications/{app_id}/authorization-letter.pdf"' in page


def test_check_refuses_a_document_the_matter_does_not_list(edited):
    form, field = _signature_field(edited.root)
    field["x-document"] = {"document": "no-such-document"}
    _write(edited.root, form)
    problems = edited.load(ok=False).problems
    found = [p for p in problems if p.pointer.endswith("/x-document/document")]
    assert found and "no-such-document" in found[0].message, problems


def test_check_refuses_a_document_without_template(edited):
    edited.edit("schemas/jiangxi/pack.yaml", lambda c: next(m for m in c["matters"] if m["id"] == MATTER)[
        "documents"].append({"id": "untemplated", "title": "无模板文书"}))
    form, field = _signature_field(edited.root)
    field["x-document"] = {"document": "untemplated"}
    _write(edited.root, form)
    problems = edited.load(ok=False).problems
    found = [p for p in problems if p.pointer.endswith("/x-document/document")]
    assert found and "untemplated.html" in found[0].message, problems


