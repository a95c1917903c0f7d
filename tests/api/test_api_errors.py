"""One error shape everywhere; a 4xx for every client mistake, never a 500."""

from __future__ import annotations

import json

import pytest

PACK, MATTER = "meizhou-meijiang", "public-rental-housing"


def _shape(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.mimetype == "application/json"
    error = r.json["error"]
    assert set(error) >= {"code", "message", "fields"} and isinstance(error["fields"], list)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    if code:
        assert error["code"] == code
    return error


def test_unknown_urls_methods_and_ids(api):
    c = api.client("mj-citizen-chen")
    _shape(c.get("/no-such-thing"), 404, "not_found")
    _shape(c.send("DELETE", "/matters"), 405, "method_not_allowed")
    _shape(c.get("/applications/999999"), 404)
    _shape(c.get("/applications/99999999999999"), 404)  # beyond any id column
    _shape(c.get("/notices/5"), 404)
    _shape(c.get(f"/matters/{PACK}/nope"), 404)
    _shape(c.get("/applications/1/files/xyz"), 404)


@pytest.mark.parametrize("raw, code", [
    (b"{not json", "malformed_json"),
    (b"", "malformed_json"),
    (b"[1, 2]", "not_object"),
    (b"NaN", "malformed_json"),
    (b"\xff\xfe", "malformed_json"),
    (b"[" * 5000 + b"]" * 5000, "too_deep"),
])
def test_malformed_bodies_are_400(api, raw, code):
    c = api.client()
    _shape(c.post("/tokens", data=raw, content_type="application/json"), 400, code)


def test_wrong_types_are_422_with_pointers(api):
    c = api.client("mj-citizen-chen")
    error = _shape(c.post("/tokens", {"username": 5, "password": None, "extra": 1}), 422, "invalid")
    pointers = {f["pointer"]: f["message"] for f in error["fields"]}
    assert set(pointers) == {"/username", "/password", "/extra"}
    assert pointers["/extra"] == "不允许的字段"
    error = _shape(c.post(f"/matters/{PACK}/{MATTER}/consent", {"accepted": "maybe"}), 422)
    assert error["fields"][0]["pointer"] == "/accepted"
    error = _shape(c.get("/review/queue", query_string={"limit": "lots"}), 404)  # a citizen has no queue


def test_deep_and_oversized_data(api):
    c = api.client("mj-citizen-chen")
    c.post(f"/matters/{PACK}/{MATTER}/consent", {"accepted": True})
    draft = c.post("/drafts", {"pack": PACK, "matter": MATTER, "office_id": "441402001001"}).json
    deep: dict = {}
    node = deep
    for _ in range(40):
        node["x"] = {}
        node = node["x"]
    _shape(c.put(f"/applications/{draft['id']}/data", {"version": draft["version"], "data": deep}), 400, "too_deep")
    big = json.dumps({"version": 1, "data": {"category": {"x": "a" * (600 * 1024)}}})
    _shape(c.post(f"/applications/{draft['id']}/steps/category/validate", data=big,
                  content_type="application/json"), 413, "too_large")
    # values of the wrong type inside the form data: 422 at the field, nothing saved
    error = _shape(c.patch(f"/applications/{draft['id']}/steps/members",
                           {"version": draft["version"], "data": {"applicant": {"monthly_income": "many"}}}), 422)
    assert error["fields"][0]["pointer"] == "/data/applicant/monthly_income"
    error = _shape(c.put(f"/applications/{draft['id']}/data",
                         {"version": draft["version"], "data": {"category": 5, "nope": {}}}), 422)
    assert {f["pointer"] for f in error["fields"]} == {"/data/nope"}
    error = _shape(c.put(f"/applications/{draft['id']}/data",
                         {"version": draft["version"], "data": {"category": 5}}), 422)
    assert {f["pointer"] for f in error["fields"]} == {"/data/category"}
    stale = _shape(c.patch(f"/applications/{draft['id']}/steps/category",
                           {"version": draft["version"] + 7, "data": {}}), 409, "stale")
    assert stale["current"]["version"] == draft["version"]
    _shape(c.post(f"/applications/{draft['id']}/submit", {"version": draft["version"]}), 422, "incomplete")
    _shape(c.post(f"/applications/{draft['id']}/submit", {"version": draft["version"]},
                  headers={"Idempotency-Key": "bad key with spaces"}), 400, "idempotency_key")


def test_openapi_document_and_docs_page(api):
    c = api.client()
    doc = c.get("/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    assert "/api/v1/applications/{app_id}/submit" in doc["paths"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    page = c.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    body = page.get_data(as_text=True)
    assert "<script" not in body and "POST /api/v1/tokens" in body
