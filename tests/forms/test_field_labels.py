"""A field's problem is labelled from the error's structure and the form's titles, in every language.

`applications.drafts.validation_errors` used to find the field's name by cutting the Chinese
message at "：", so English messages kept raw keys ("mobile: required") and doubled the
ID-number explanation. Now the label comes from the error's path and the schema that failed.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask

from formflow.applications.drafts import validation_errors
from formflow.forms.schema import registry_of, validator_for
from formflow.text import catalogue

URI = "https://formflow.local/schemas/test/labels/form.schema.json"
FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": URI,
    "type": "object",
    "$defs": {"phone": {"title": "手机号码", "type": "string", "format": "cn-mobile"}},
    "properties": {
        "contact": {
            "title": "联系方式",
            "type": "object",
            "properties": {
                "mobile": {"$ref": "#/$defs/phone"},  # titled by the shared type only
                "office_phone": {"$ref": "#/$defs/phone", "title": "单位联系电话"},  # titled otherwise
                "employer": {"title": "工作单位", "type": "string"},
                "employer_address": {"title": "单位地址", "type": "string"},
            },
            "required": ["mobile"],
            "dependentRequired": {"employer": ["employer_address"]},
        },
    },
}


def _pinned():
    return SimpleNamespace(versions={"form": "labels-test"}, documents={"form": {"uri": URI, "form": FORM}},
                           validator=validator_for(FORM, registry_of({URI: FORM})))


def _errors(data, headers):
    app = Flask(__name__)
    catalogue.init_app(app)
    with app.test_request_context(headers=headers):
        return {e.pointer: e.message for e in validation_errors(_pinned(), data)}


EN = {"Accept-Language": "en"}


@pytest.mark.parametrize(("headers", "expected"), [
    (EN, "手机号码: required"),
    ({}, "手机号码：必填"),
], ids=["en", "zh"])
def test_a_missing_field_is_named_by_the_forms_title_not_its_key(headers, expected):
    assert _errors({"contact": {}}, headers)["/contact/mobile"] == expected


@pytest.mark.parametrize(("headers", "mobile", "office"), [
    (EN, "A mobile number has 11 digits and starts with 13–19",
     "单位联系电话: A mobile number has 11 digits and starts with 13–19"),
    ({}, "手机号码应为11位数字，以13–19开头", "单位联系电话：手机号码应为11位数字，以13–19开头"),
], ids=["en", "zh"])
def test_a_format_explanation_gets_the_title_only_when_the_field_is_titled_otherwise(headers, mobile, office):
    got = _errors({"contact": {"mobile": "123", "office_phone": "456"}}, headers)
    assert got["/contact/mobile"] == mobile
    assert got["/contact/office_phone"] == office


@pytest.mark.parametrize(("headers", "expected"), [
    (EN, "单位地址: required (because 工作单位 is filled in)"),
    ({}, "单位地址：必填（因已填写 工作单位）"),
], ids=["en", "zh"])
def test_a_dependent_field_names_both_fields_by_their_titles(headers, expected):
    got = _errors({"contact": {"mobile": "13807530001", "employer": "梅州示例公司"}}, headers)
    assert got["/contact/employer_address"] == expected
