"""Field-level validation messages come from the catalogue: English for an English request, Chinese by default.

Pack texts (a field's title) stay what the pack says; the sentence around them is the catalogue's.
"""

from __future__ import annotations

import pytest

from api.api_support import Api  # tests/api's client (tests/ is on sys.path)
from formflow.forms.errors import translate_all
from formflow.forms.schema import iter_errors, registry_of, validator_for

PACK, MATTER = "meizhou-meijiang", "public-rental-housing"
CITIZEN = "mj-citizen-chen"
LOCALITY = "441402001001"
ENGLISH = {"Accept-Language": "en"}
#: the spouse's number with a wrong check digit (the right one ends in 7)
SPOUSE = {"name": "李秀梅", "id_number": "441402199007220428", "relation": "spouse", "monthly_income": 800}
APPLICANT = {"mobile": "13807530001", "marital_status": "married", "hukou_region": "meijiang", "monthly_income": 1200}


@pytest.fixture
def draft(sqlite_platform):
    """A signed-in citizen's API client and draft id (consent given, category filled)."""
    from datetime import date

    api = Api(sqlite_platform, date(2026, 3, 2))
    c = api.client(CITIZEN)
    matter = c.get(f"/matters/{PACK}/{MATTER}").json
    r = c.post(f"/matters/{PACK}/{MATTER}/consent",
               {"accepted": True, "agreement_version": matter["privacy"]["version"]})
    assert r.status_code == 201, r.json
    r = c.post("/drafts", {"pack": PACK, "matter": MATTER, "office_id": LOCALITY})
    assert r.status_code == 201, r.json
    app_id = r.json["id"]
    r = c.patch(f"/applications/{app_id}/steps/category", {
        "version": r.json["version"],
        "data": {"applicant_category": "low-income", "support_mode": "physical_allocation"}})
    assert r.status_code == 200, r.json
    return c, app_id, r.json["data"]["members"]


def _errors(c, app_id, step, body, headers=None):
    r = c.post(f"/applications/{app_id}/steps/{step}/validate", body, headers=headers)
    assert r.status_code == 200, r.json
    assert r.json["valid"] is False
    return {e["pointer"]: e["message"] for e in r.json["errors"]}


def test_wrong_id_number_is_explained_in_the_requests_language(draft):
    c, app_id, members = draft
    members["applicant"].update(APPLICANT)
    members["co_applicants"] = [SPOUSE]
    at = "/members/co_applicants/0/id_number"
    chinese = _errors(c, app_id, "members", {"data": members})
    english = _errors(c, app_id, "members", {"data": members}, headers=ENGLISH)
    assert set(chinese) == set(english) == {at}
    assert chinese[at] == "公民身份号码校验位不正确"
    # the explanation names the kind of value already: no title before it (built from the error, never cut from text)
    assert english[at] == "Resident ID number has a wrong check digit"


def test_missing_field_is_reported_in_the_requests_language(draft):
    c, app_id, _members = draft
    empty = {"data": {}}
    chinese = _errors(c, app_id, "category", empty)
    english = _errors(c, app_id, "category", empty, headers=ENGLISH)
    zh_CN = _errors(c, app_id, "category", empty, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    at = "/category/applicant_category"
    assert chinese[at] == zh_CN[at] and chinese[at].endswith("：必填")
    assert english[at].endswith(": required") and english[at].split(":")[0] == chinese[at].split("：")[0]


SCHEMA = {
    "type": "object",
    "properties": {
        "age": {"title": "Age", "type": "integer", "minimum": 18},
        "mobile": {"type": "string", "format": "cn-mobile"},
        "kind": {"enum": ["a", "b"]},
        "note": {"type": "string", "maxLength": 3},
    },
    "required": ["name"],
    "additionalProperties": False,
}
BAD = {"age": 12, "mobile": "123", "kind": "c", "note": "abcd", "extra": 1}
IN_ENGLISH = {
    "": "Keys not allowed: extra",
    "/age": "Age cannot be less than 18",
    "/kind": "This item: 'c' is not one of the choices",
    "/mobile": "A mobile number has 11 digits and starts with 13–19",
    "/name": "name: required",
    "/note": "This item: at most 3 characters",
}
IN_CHINESE = {
    "": "不允许的键：extra",
    "/age": "Age不能小于 18",
    "/kind": "此项的值 'c' 不在可选范围内",
    "/mobile": "手机号码应为11位数字，以13–19开头",
    "/name": "name：必填",
    "/note": "此项最多 3 个字符",
}


@pytest.mark.parametrize(("headers", "expected"), [({"Accept-Language": "en"}, IN_ENGLISH), ({}, IN_CHINESE)],
                         ids=["en", "default"])
def test_every_kind_of_schema_error_speaks_the_requests_language(headers, expected):
    from flask import Flask

    from formflow.forms.formats import FORMAT_MESSAGES
    from formflow.text import catalogue

    app = Flask(__name__)
    catalogue.init_app(app)
    validator = validator_for(SCHEMA, registry_of({}))
    with app.test_request_context(headers=headers):
        got = {e.pointer: e.message for e in translate_all(iter_errors(validator, BAD), FORMAT_MESSAGES)}
    assert got == expected
