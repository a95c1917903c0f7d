"""Defects of the files area, each through the channels a person uses (HTTP views), on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
import threading

import pytest
from sqlalchemy import func, select

from formflow.db.models import Account, Application, ApplicationFile, Event, Household, HouseholdMember, StoredFile

from .files_channels import (
    CITIZEN,
    OTHER,
    PNG,
    Channels,
    complete_data,
    draft,
    others_upload,
    request_correction,
    submitted,
    version,
)

BOGUS_SIGNATURE = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()


def _api_sign_in_many(ch: Channels, username: str, n: int):
    return [ch.api.client(username) for _ in range(n)]


@pytest.mark.postgres
def test_six_simultaneous_submits_of_one_draft_one_wins_five_clear_answers(postgres_platform):
    """Defect 10: the row was read before it was locked; the losers saw a draft and answered 500."""
    ch = Channels(postgres_platform)
    app_id = draft(postgres_platform, data=complete_data())
    clients = _api_sign_in_many(ch, CITIZEN, 6)
    v = version(postgres_platform, app_id)
    barrier = threading.Barrier(6)
    answers: list[tuple[int, str | None]] = []

    def run(c, i):
        barrier.wait(20)
        r = c.post(f"/applications/{app_id}/submit", {"version": v}, headers={"Idempotency-Key": f"tab-{i}"})
        answers.append((r.status_code, (r.json.get("error") or {}).get("code")))

    threads = [threading.Thread(target=run, args=(c, i)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(answers) == [(200, None)] + [(409, "already_submitted")] * 5, answers
    with postgres_platform.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(
            Event.application_id == app_id, Event.action == "submit")) == 1


@pytest.mark.postgres
def test_two_citizens_attach_the_same_bytes_at_the_same_moment(postgres_platform):
    """Defect 13: the shared content-addressed row collided and one upload was answered 503."""
    ch = Channels(postgres_platform)
    mine = draft(postgres_platform, data=None, own_files=False)
    from formflow.applications import drafts as apps

    with postgres_platform.sessions.begin() as s:
        other = s.scalar(select(Account).where(Account.username == OTHER))
        theirs = apps.start_draft(s, postgres_platform.packs, applicant=other, pack="jiangxi",
                                  matter="public-rental-housing", office_id="360102001", channel="jxzwfw").id
    same = _fresh_png()
    barrier = threading.Barrier(2)
    answers: list[int] = []
    field = "materials.uploads.income_certificate"

    def run(username, app_id):
        c = ch.api.client(username)
        v = version(postgres_platform, app_id)
        barrier.wait(20)
        r = c.post(f"/applications/{app_id}/files", data={"field": field, "version": str(v),
                                                          "file": (io.BytesIO(same), "同一份证明.png")},
                   content_type="multipart/form-data")
        answers.append(r.status_code)

    threads = [threading.Thread(target=run, args=a) for a in ((CITIZEN, mine), (OTHER, theirs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert answers == [201, 201], answers
    with postgres_platform.sessions() as s:
        import hashlib

        digest = hashlib.sha256(same).hexdigest()
        assert s.scalar(select(func.count()).select_from(StoredFile).where(StoredFile.sha256 == digest)) == 1
        assert s.scalar(select(func.count()).select_from(ApplicationFile).where(
            ApplicationFile.sha256 == digest)) == 2


def _fresh_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (9, 7), (1, 2, 3)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("household_status", [None, "waiting", "housed"])
def test_an_approved_or_housed_household_cannot_apply_again(sqlite_platform, household_status):
    """Defect 2 (second half): only applications in progress were counted."""
    p = sqlite_platform
    ch = Channels(p)
    first = submitted(p, complete_data())
    with p.sessions.begin() as s:
        app = s.get(Application, first)
        app.status, app.result, app.stages = "closed", "approved", []
        if household_status:
            s.add(Household(code=f"H-{first}", pack=app.pack, matter=app.matter, application_id=app.id,
                            applicant_id=app.applicant_id, mode="rental_in_kind", kind="flat",
                            status=household_status, name="王芳", id_masked="3601**********004X",
                            approved_on=ch.api.today))
    again = draft(p, data=complete_data())
    r = ch.api.client(CITIZEN).post(f"/applications/{again}/submit", {"version": version(p, again)})
    assert r.status_code == 409 and r.json["error"]["code"] == "duplicate_household", r.json
    assert "3601**********004X" in r.json["error"]["message"] and "36010219950410004X" not in str(r.json)


def test_a_household_that_left_allocation_may_apply_again(sqlite_platform):
    p = sqlite_platform
    ch = Channels(p)
    first = submitted(p, complete_data())
    with p.sessions.begin() as s:
        app = s.get(Application, first)
        app.status, app.result, app.stages = "closed", "approved", []
        s.add(Household(code=f"H-{first}", pack=app.pack, matter=app.matter, application_id=app.id,
                        applicant_id=app.applicant_id, mode="rental_in_kind", kind="flat", status="recovered",
                        name="王芳", id_masked="3601**********004X", approved_on=ch.api.today))
    again = draft(p, data=complete_data())
    r = ch.api.client(CITIZEN).post(f"/applications/{again}/submit", {"version": version(p, again)})
    assert r.status_code == 200, r.json
    with p.sessions() as s:
        assert s.scalar(select(func.count()).select_from(HouseholdMember).where(
            HouseholdMember.application_id == again)) == 1


def test_another_applicants_upload_is_refused_when_saving(sqlite_platform):
    """Defect 9 at save: a sha256 copied from someone else's application never enters this one."""
    p = sqlite_platform
    ch = Channels(p)
    theirs = others_upload(p)
    app_id = draft(p, data=None)
    step = complete_data()["materials"]
    step["uploads"]["income_certificate"] = [{"sha256": theirs, "name": "别人的证明.png", "media_type": "image/png",
                                              "size": 10}]
    r = ch.api.client(CITIZEN).patch(f"/applications/{app_id}/steps/materials",
                                     {"version": version(p, app_id), "data": step})
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_materials", r.json
    assert r.json["error"]["message"] == "文件“别人的证明.png”不是本申请上传的文件，请重新上传"
    with p.sessions() as s:
        assert theirs not in str(s.get(Application, app_id).data)


def test_the_api_refuses_the_signature_the_portal_refuses(sqlite_platform):
    """One signature check: an 8-byte "PNG" was accepted through the API's step save."""
    p = sqlite_platform
    ch = Channels(p)
    app_id = draft(p, data=None)
    assets = complete_data()["assets"]
    assets["authorization"]["signature"] = BOGUS_SIGNATURE
    r = ch.api.client(CITIZEN).patch(f"/applications/{app_id}/steps/assets",
                                     {"version": version(p, app_id), "data": assets})
    assert r.status_code == 422, r.json
    api_message = r.json["error"]["message"]
    web = ch.web(CITIZEN)
    page = f"/portal/applications/{app_id}/step/assets"
    w = web.post(f"/portal/applications/{app_id}/signature", {"field": "assets.authorization.signature",
                                                               "data_url": BOGUS_SIGNATURE,
                                                               "_version": version(p, app_id)}, token_from=page)
    assert w.status_code == 400 and r.status_code == 422  # a form post is a bad request; the API's 422 is documented
    assert w.json["code"] == r.json["error"]["code"]
    assert w.json["message"] == api_message == "签名不是有效的 PNG 图片，请重新签名"


def test_uploads_during_a_correction_are_kept_and_the_answer_then_goes(sqlite_platform):
    """Defect 3, citizen side: the answer waits for the named file; the file uploaded is attached and kept."""
    p = sqlite_platform
    ch = Channels(p)
    app_id = submitted(p, complete_data())
    request_correction(p, app_id, ["income_certificate"], "收入证明缺少单位盖章")
    field = "materials.uploads.income_certificate"
    assert ch.answer("api", app_id, "").status == 422
    up = ch.upload("api", app_id, field)
    assert up.status == 201, up.text
    assert ch.answer("api", app_id, "已补盖章").status == 200
    with p.sessions() as s:
        app = s.get(Application, app_id)
        assert app.awaiting is None
        names = [f["name"] for f in app.data["materials"]["uploads"]["income_certificate"]]
        assert "证明.png" in names
        assert s.scalar(select(ApplicationFile).where(ApplicationFile.application_id == app_id,
                                                      ApplicationFile.original_name == "证明.png"))
    # after the answer the application takes no more files: a clear refusal, not a silent drop
    late = ch.upload("api", app_id, field)
    assert late.status == 409 and "补正期间" in late.text


def test_portal_upload_with_a_refused_answer_is_kept(sqlite_platform):
    """The portal attaches the posted files before answering: a refused answer keeps them."""
    p = sqlite_platform
    ch = Channels(p)
    app_id = submitted(p, complete_data())
    request_correction(p, app_id, ["income_certificate", "housing_status_certificate"], "两份证明都需重新提供")
    seen = ch.upload("portal", app_id, "materials.uploads.income_certificate")
    assert "请上传：住房情况证明" in seen.text
    with p.sessions() as s:
        app = s.get(Application, app_id)
        assert app.awaiting == "citizen"
        assert "证明.png" in [f["name"] for f in app.data["materials"]["uploads"]["income_certificate"]]
    assert PNG  # the scan uploaded is the fixture's
