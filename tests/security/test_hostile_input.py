"""Issue 12 — hostile input: bounds on stored drafts, NUL bytes, odd field names, database errors.

Each refusal is a 4xx a person can read (never 500/503) and the stored draft is as it was;
each group has a positive control (the same request made sane is accepted).
"""

from __future__ import annotations

import json

import pytest
from sec_support import TODAY  # noqa: F401
from test_bad_inputs import CJK, _api, _draft, _snapshot, _version

from formflow.db.models import Application


def _data(sec, app_id):
    with sec.p.sessions() as s:
        return s.get(Application, app_id).data


def _row_bytes(sec, app_id) -> int:
    with sec.p.sessions() as s:
        return len(json.dumps(s.get(Application, app_id).data, ensure_ascii=False))


# --------------------------------------------------------------------------- bounds (API)


def test_api_refuses_more_co_applicants_than_the_form_allows(sec):
    app_id = _draft(sec)
    before = _snapshot(sec, app_id)
    c = _api(sec)
    r = c.put(f"/applications/{app_id}/data", {"version": before[1], "data": {
        "members": {"co_applicants": [{"basic": {"name": "甲"}}] * 6000}}})
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert CJK.search(r.json["error"]["message"])
    assert any("co_applicants" in f["pointer"] for f in r.json["error"]["fields"])
    assert _snapshot(sec, app_id) == before


def test_api_stores_co_applicants_within_the_cap(sec):
    app_id = _draft(sec)
    c = _api(sec)
    r = c.put(f"/applications/{app_id}/data", {"version": int(_version(sec, app_id)), "data": {
        "members": {"co_applicants": [{"basic": {"name": "甲"}}] * 3}}})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert len(_data(sec, app_id)["members"]["co_applicants"]) == 3


def test_api_refuses_a_string_beyond_max_length(sec):
    app_id = _draft(sec)
    before = _snapshot(sec, app_id)
    c = _api(sec)
    r = c.put(f"/applications/{app_id}/data", {"version": before[1], "data": {
        "members": {"applicant": {"basic": {"name": "张" * 100_000}}}}})
    assert r.status_code in (413, 422), r.status_code
    assert CJK.search(r.json["error"]["message"])
    assert _snapshot(sec, app_id) == before


# --------------------------------------------------------------------------- bounds (web)


def test_web_refuses_a_list_index_beyond_the_cap(sec):
    app_id = _draft(sec)
    before = _snapshot(sec, app_id)
    c = sec.client("jx-citizen-wangfang")
    url = f"/portal/applications/{app_id}/step/members"
    r = c.post(url, {"_action": "save", "_version": _version(sec, app_id),
                     "members.co_applicants.6000.basic.name": "甲"}, token_from=url)
    assert r.status_code == 400, r.status_code
    assert CJK.search(r.get_data(as_text=True))
    assert _snapshot(sec, app_id) == before


def test_web_index_within_the_cap_is_stored(sec):
    app_id = _draft(sec)
    c = sec.client("jx-citizen-wangfang")
    url = f"/portal/applications/{app_id}/step/members"
    r = c.post(url, {"_action": "save", "_version": _version(sec, app_id), "members.co_applicants.__count": "1",
                     "members.co_applicants.0.basic.name": "甲"}, token_from=url)
    assert r.status_code == 302
    assert _data(sec, app_id)["members"]["co_applicants"][0]["basic"]["name"] == "甲"


@pytest.mark.parametrize("name", ["members.co_applicants.\u00b2.name", "members.co_applicants.\u0663.name",
                                  "members.co_applicants.-1.name"], ids=["superscript-two", "arabic-three", "minus"])
def test_odd_digits_in_field_names_are_not_a_500(sec, name):
    app_id = _draft(sec)
    before = _snapshot(sec, app_id)
    c = sec.client("jx-citizen-wangfang")
    url = f"/portal/applications/{app_id}/step/members"
    r = c.post(url, {"_action": "save", "_version": _version(sec, app_id), name: "甲"}, token_from=url)
    assert r.status_code in (302, 400), r.status_code
    assert _snapshot(sec, app_id)[3] == before[3]


@pytest.mark.parametrize("action", ["rmfile:\u2026.abc", "rmfile:materials.uploads.income_certificate.\u00b2",
                                    "remove:members.co_applicants.\u00b2", "add:members.\u2026"],
                         ids=["rmfile-ellipsis", "rmfile-superscript", "remove-superscript", "add-ellipsis"])
def test_odd_action_arguments_are_not_a_500(sec, action):
    app_id = _draft(sec)
    c = sec.client("jx-citizen-wangfang")
    url = f"/portal/applications/{app_id}/step/members"
    r = c.post(url, {"_action": action, "_version": _version(sec, app_id)}, token_from=url)
    assert r.status_code in (302, 400), r.status_code


SIGNATURE = None


def _signature_url() -> str:
    import base64
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (300, 120), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(10, 60), (290, 70)], fill=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _signature_field(sec, app_id) -> str:
    from formflow.applications import drafts as apps
    from formflow.usecases.files import signature_fields

    with sec.p.sessions() as s:
        return signature_fields(apps.pinned_of(s, s.get(Application, app_id)))[0]


def _sign(sec, app_id, field):
    c = sec.client("jx-citizen-wangfang")
    url = f"/portal/applications/{app_id}/step/materials"
    return c.post(f"/portal/applications/{app_id}/signature",
                  {"field": field, "data_url": _signature_url(), "_version": _version(sec, app_id)}, token_from=url)


@pytest.mark.parametrize("field", ["members.applicant.basic.id_number", "zzz.2000000", "{sig}.2000000",
                                   "{sig}.0.x"], ids=["id-number", "unknown-huge-index", "signature-huge-index",
                                                      "under-signature"])
def test_signature_only_at_a_signature_field(sec, field):
    app_id = _draft(sec)
    sig = _signature_field(sec, app_id)
    before = _snapshot(sec, app_id)
    r = _sign(sec, app_id, field.format(sig=sig))
    assert r.status_code == 400, r.status_code
    assert CJK.search(r.json["message"])
    assert _snapshot(sec, app_id) == before
    assert _row_bytes(sec, app_id) < 100_000


def test_signature_at_its_field_is_stored(sec):
    app_id = _draft(sec)
    sig = _signature_field(sec, app_id)
    r = _sign(sec, app_id, sig)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]


# --------------------------------------------------------------------------- NUL bytes and database errors


@pytest.mark.parametrize(("method", "url", "form"), [
    ("POST", "/auth/login", {"username": "a\x00", "password": "x"}),
    ("GET", "/desk/?stage=a%00b", None),
    ("GET", "/portal/my?x=%00", None),
], ids=["username", "desk-query", "portal-query"])
def test_nul_byte_is_a_400(sec, method, url, form):
    c = sec.client("mj-community")
    r = c.client.open(url, method=method, data=form)
    assert r.status_code == 400, r.status_code
    assert CJK.search(r.get_data(as_text=True))


def test_nul_byte_in_an_api_body_is_a_400(sec):
    app_id = _draft(sec)
    before = _snapshot(sec, app_id)
    c = _api(sec)
    r = c.put(f"/applications/{app_id}/data", {"version": before[1], "data": {
        "members": {"applicant": {"basic": {"name": "王\x00芳"}}}}})
    assert r.status_code == 400, r.status_code
    assert CJK.search(r.json["error"]["message"])
    assert _snapshot(sec, app_id) == before


def test_nul_byte_in_a_web_field_is_a_400(sec):
    app_id = _draft(sec)
    before = _snapshot(sec, app_id)
    c = sec.client("jx-citizen-wangfang")
    url = f"/portal/applications/{app_id}/step/members"
    r = c.post(url, {"_action": "save", "_version": _version(sec, app_id),
                     "members.applicant.basic.name": "王\x00芳"}, token_from=url)
    assert r.status_code == 400
    assert _snapshot(sec, app_id) == before


def test_query_without_nul_is_served(sec):
    assert sec.client("mj-community").get("/desk/?stage=ab").status_code == 200


def test_data_error_is_400_and_integrity_error_is_409(sec):
    from sqlalchemy.exc import DataError, IntegrityError

    app = sec.app

    @app.get("/__probe/<kind>")
    def _probe(kind):  # pragma: no cover - exercised through the client
        if kind == "data":
            raise DataError("INSERT", {}, Exception("invalid byte sequence"))
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    c = sec.client()
    r = c.get("/__probe/data")
    assert r.status_code == 400 and CJK.search(r.get_data(as_text=True))
    r = c.get("/__probe/integrity")
    assert r.status_code == 409 and CJK.search(r.get_data(as_text=True))


# --------------------------------------------------------------------------- API write rate limit


def test_api_writes_are_limited_per_account(sec):
    import dataclasses

    ext = sec.app.extensions["formflow"]
    ext["settings"] = dataclasses.replace(ext["settings"], api_writes_per_minute=3)
    app_id = _draft(sec)
    c = _api(sec)
    statuses = [c.patch(f"/applications/{app_id}/steps/assets",
                        {"version": int(_version(sec, app_id)), "data": {}}).status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429, statuses
    r = c.patch(f"/applications/{app_id}/steps/assets", {"version": int(_version(sec, app_id)), "data": {}})
    assert r.status_code == 429 and r.headers["Retry-After"] and CJK.search(r.json["error"]["message"])
    # positive control: another account is not held back by the first one's writes, and reads go on
    other = _api(sec, "jx-citizen-liqiang")
    assert other.post("/applications", {"pack": "jiangxi", "matter": "public-rental-housing"}).status_code != 429
    assert c.get(f"/applications/{app_id}").status_code == 200


def test_the_write_window_slides():
    from collections import deque

    from formflow.api.ratelimit import allow

    seen: dict[int, deque[float]] = {}
    assert [allow(seen, 1, 2, now=t) for t in (0, 1, 2)] == [True, True, False]
    assert allow(seen, 1, 2, now=61) is True  # the first write has left the window
    assert allow(seen, 2, 2, now=2) is True  # another account counts alone
