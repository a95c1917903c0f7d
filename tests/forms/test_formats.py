"""Chinese formats: ID number, mobile, USCC, plate, money/area, checker, masking."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from formflow.forms.formats import (
    FORMAT_CHECKER,
    FORMAT_MESSAGES,
    PROVINCE_CODES,
    USCC_CHARS,
    explain_cn_id_card,
    explain_format,
    id_card_check_digit,
    is_area,
    is_cn_id_card,
    is_cn_mobile,
    is_cn_plate,
    is_cn_uscc,
    is_date,
    is_email,
    is_money,
    mask_id_number,
    mask_mobile,
    uscc_check_char,
)


def make_id(first17: str) -> str:
    return first17 + id_card_check_digit(first17)


# --------------------------------------------------------------------------- 公民身份号码


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",
        "11010519491231002x",
        make_id("36010219900101123"),
        "440524198001010013",
    ],
)
def test_valid_id_numbers(number: str) -> None:
    assert explain_cn_id_card(number) is None
    assert is_cn_id_card(number)


def test_check_digit_of_standard_examples() -> None:
    assert id_card_check_digit("11010519491231002") == "X"
    assert id_card_check_digit("44052418800101001") == "4"
    with pytest.raises(ValueError, match="1234"):
        id_card_check_digit("1234")


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("11010519491231002", "长度应为18位"),
        ("11010519491231002XX", "长度应为18位"),
        ("1101051949123100X2", "前17位应为数字，末位应为数字或X"),
        ("11010519491231002Y", "前17位应为数字，末位应为数字或X"),
        ("１１010519491231002X", "前17位应为数字，末位应为数字或X"),  # full-width digits
        (make_id("00010519491231002"), "地区码无效"),
        (make_id("99010519491231002"), "地区码无效"),
        (make_id("11010519490231002"), "出生日期无效"),  # 31 February
        (make_id("11010519491331002"), "出生日期无效"),  # month 13
        ("440524188001010014", "出生日期无效"),  # GB 11643 example, born 1880
        (make_id("11010521000101002"), "出生日期无效"),  # future
        ("110105194912310021", "校验位不正确"),
        ("440524198001010014", "校验位不正确"),
    ],
)
def test_invalid_id_numbers_give_the_reason(number: str, reason: str) -> None:
    assert explain_cn_id_card(number) == reason
    assert not is_cn_id_card(number)


def test_birth_date_today_is_valid_tomorrow_is_not() -> None:
    number = make_id("11010520260302001")
    assert explain_cn_id_card(number, today=date(2026, 3, 2)) is None
    assert explain_cn_id_card(number, today=date(2026, 3, 1)) == "出生日期无效"


def test_non_strings_are_not_id_numbers() -> None:
    assert not is_cn_id_card(110105194912310020)
    assert not is_cn_id_card(None)


region = st.builds(
    lambda p, rest: p + rest,
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31))
sequence = st.text(alphabet="0123456789", min_size=3, max_size=3)


@given(region, births, sequence)
def test_any_well_formed_id_is_accepted(prefix: str, born: date, seq: str) -> None:
    number = make_id(prefix + born.strftime("%Y%m%d") + seq)
    assert is_cn_id_card(number)
    assert is_cn_id_card(number.lower())


@given(region, births, sequence, st.sampled_from("0123456789X"))
def test_any_other_check_digit_is_rejected(prefix: str, born: date, seq: str, c: str) -> None:
    first17 = prefix + born.strftime("%Y%m%d") + seq
    if c != id_card_check_digit(first17):
        assert explain_cn_id_card(first17 + c) == "校验位不正确"


# --------------------------------------------------------------------------- 统一社会信用代码


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L"])
def test_valid_uscc(code: str) -> None:
    assert is_cn_uscc(code)


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y44",  # wrong check character
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y433",  # 19 characters
        "91350100m000100Y43",  # lower case
        "91350100I000100Y43",  # I is not in the character set
        "91350100O000100Y43",  # nor O
        "",
        None,
    ],
)
def test_invalid_uscc(code: str | None) -> None:
    assert not is_cn_uscc(code)


uscc_body = st.text(alphabet=USCC_CHARS, min_size=17, max_size=17)


@given(uscc_body)
def test_any_uscc_with_computed_check_is_accepted(body: str) -> None:
    assert is_cn_uscc(body + uscc_check_char(body))


@given(uscc_body, st.sampled_from(USCC_CHARS + "IOZSV"))
def test_any_other_uscc_check_is_rejected(body: str, c: str) -> None:
    if c != uscc_check_char(body):
        assert not is_cn_uscc(body + c)


# --------------------------------------------------------------------------- 手机号、车牌


@pytest.mark.parametrize("mobile", ["13800000000", "19912345678", "16612345678"])
def test_valid_mobile(mobile: str) -> None:
    assert is_cn_mobile(mobile)


@pytest.mark.parametrize(
    "mobile",
    [
        "12800000000",
        "1380000000",
        "138000000000",
        "23800000000",
        "1380000000a",
        " 13800000000",
        "13800000000\n",
        13800000000,
    ],
)
def test_invalid_mobile(mobile: object) -> None:
    assert not is_cn_mobile(mobile)


@pytest.mark.parametrize(
    "plate",
    ["粤M12345", "京A8B9C0", "赣AD12345", "沪AFA1234", "川A12345D", "粤B1234学", "浙C1234挂"],
)
def test_valid_plates(plate: str) -> None:
    assert is_cn_plate(plate)


@pytest.mark.parametrize(
    "plate",
    [
        "粤M1234I",  # I
        "粤O12345",  # O as authority letter
        "赣AD1234O",  # O in a new-energy plate
        "粤M1234",  # too short
        "粤M1234567",  # too long
        "粤m12345",  # lower case
        "港A12345",  # not a province abbreviation
        "赣AA12345",  # 8 characters but not a new-energy pattern
        "沪AF1A234",  # small new-energy: the last four must be digits
    ],
)
def test_invalid_plates(plate: str) -> None:
    assert not is_cn_plate(plate)


# --------------------------------------------------------------------------- 金额、面积


@pytest.mark.parametrize(
    "value", [12.34, 0, 0.0, 12, "12.34", "0", "12.3", 12.3, Decimal("12.340"), 10**20, 1e20]
)
def test_valid_money_and_area(value: object) -> None:
    assert is_money(value)
    assert is_area(value)


@pytest.mark.parametrize(
    "value",
    [
        12.345,
        "12.345",
        -1,
        "-1",
        -0.01,
        0.1 + 0.2,
        0.30000000000000004,
        float("nan"),
        float("inf"),
        True,
        None,
        "",
        "1e3",
        " 12",
        "12.",
        ".5",
        "1,000",
        [1],
    ],
)
def test_invalid_money_and_area(value: object) -> None:
    assert not is_money(value)
    assert not is_area(value)


def test_float_sum_is_not_two_decimals() -> None:
    assert 0.1 + 0.2 == 0.30000000000000004
    assert is_money(0.3)
    assert not is_money(0.1 + 0.2)


# --------------------------------------------------------------------------- date, email


def test_date_and_email() -> None:
    assert is_date("2026-02-28")
    assert not is_date("2026-02-29")
    assert not is_date("20260228")
    assert is_email("zhang.san@example.gov.cn")
    assert not is_email("zhang san@example.cn")
    assert not is_email("zhangsan@localhost")


# --------------------------------------------------------------------------- checker


SCHEMA = {
    "type": "object",
    "properties": {
        name: {"format": name}
        for name in [
            "cn-id-card",
            "cn-mobile",
            "cn-uscc",
            "cn-plate",
            "money",
            "area",
            "date",
            "email",
        ]
    },
}


def errors(instance: dict) -> dict[str, str]:
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=FORMAT_CHECKER)
    return {e.path[0]: e.validator_value for e in validator.iter_errors(instance)}


def test_checker_registers_every_format() -> None:
    assert set(FORMAT_CHECKER.checkers) == set(FORMAT_MESSAGES)
    good = {
        "cn-id-card": "11010519491231002x",
        "cn-mobile": "13800000000",
        "cn-uscc": "91350100M000100Y43",
        "cn-plate": "赣AD12345",
        "money": 12.34,
        "area": "85.5",
        "date": "2026-10-10",
        "email": "a@b.cn",
    }
    assert errors(good) == {}
    bad = {
        "cn-id-card": "11010519491231002Y",
        "cn-mobile": "12800000000",
        "cn-uscc": "91350100M000100Y44",
        "cn-plate": "粤M1234I",
        "money": 0.1 + 0.2,
        "area": -1,
        "date": "2026-13-01",
        "email": "nobody",
    }
    assert errors(bad) == {name: name for name in bad}


def test_checker_leaves_other_types_to_the_type_keyword() -> None:
    assert errors({"cn-id-card": 1, "cn-mobile": None, "money": True, "date": 20260101}) == {}


def test_explain_format() -> None:
    assert explain_format("cn-id-card", "110105194912310021") == "公民身份号码校验位不正确"
    assert explain_format("cn-id-card", "11010519491231002X") is None
    assert explain_format("money", 12.345) == FORMAT_MESSAGES["money"]
    assert explain_format("money", 12.34) is None
    with pytest.raises(KeyError, match="cn-passport"):
        explain_format("cn-passport", "x")


# --------------------------------------------------------------------------- masking


def test_masking() -> None:
    assert mask_id_number("360102199001011234") == "3601**********1234"
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_mobile("13800000000") == "138****0000"
    assert mask_mobile("1234") == "****"
