"""Chinese formats for the JSON Schema ``format`` keyword, and masking.

Each ``is_*`` function is pure and returns a bool; :data:`FORMAT_CHECKER`
registers them (with ``date`` and ``email``) for jsonschema validators.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from jsonschema import FormatChecker

from formflow.text.catalogue import _, lazy

DIGITS = "0123456789"

# --------------------------------------------------------------------------- resident identity card number (GB 11643)

# Province-level codes of GB/T 2260 (first two digits of an ID number).
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
_ID_CHECK = "10X98765432"
_ID_BODY = re.compile(r"[0-9]{17}[0-9Xx]")
_LAST = frozenset("0123456789Xx")
_ID_TZ = "Asia/Shanghai"
_SEVENTEEN_DIGITS = re.compile(r"[0-9]{17}")
#: (until when, as a timestamp; the date then) of today where ID numbers are issued
_today_kept: tuple[float, date] = (0.0, date.min)


def id_card_check_digit(first17: str) -> str:
    """GB 11643-1999 (ISO 7064 MOD 11-2) check character for 17 digits."""
    if len(first17) != 17 or not _SEVENTEEN_DIGITS.fullmatch(first17):
        raise ValueError(_("Should be 17 digits: %(value)s", value=repr(first17)))
    return _check_digit(first17)


def _check_digit(first17: str) -> str:
    """The check character of 17 ASCII digits.

    The weights are 2**(17 - i) mod 11: read in base 13 (13 ≡ 2 mod 11) the digits give
    the sum of d_i * 2**(16 - i) mod 11, so twice that number is the weighted sum, in C.
    """
    return _ID_CHECK[(2 * int(first17, 13)) % 11]


def _id_today() -> date:
    """Today in the ID numbers' time zone, worked out again only after its midnight."""
    global _today_kept
    until, today = _today_kept
    if time.time() < until:
        return today
    zone = ZoneInfo(_ID_TZ)
    today = datetime.now(zone).date()
    midnight = datetime(today.year, today.month, today.day, tzinfo=zone) + timedelta(days=1)
    _today_kept = (midnight.timestamp(), today)
    return today


def explain_cn_id_card(s: Any, today: date | None = None) -> str | None:
    """Why ``s`` is not a valid resident ID number (Chinese), or None if it is."""
    if not isinstance(s, str) or len(s) != 18:
        return _("should be 18 characters long")
    if not _ID_BODY.fullmatch(s):
        return _("should be 17 digits followed by a digit or X")
    if s[:2] not in PROVINCE_CODES:
        return _("has an invalid region code")
    try:
        born = date.fromisoformat(s[6:14])  # eight digits (matched above): YYYYMMDD
    except ValueError:
        return _("has an invalid date of birth")
    if born.year < 1900 or born > (today or _id_today()):
        return _("has an invalid date of birth")
    if _check_digit(s[:17]) != s[17].upper():
        return _("has a wrong check digit")
    return None


def is_cn_id_card(s: Any) -> bool:
    """18-digit resident ID: region, birth date, check digit (lower-case x accepted)."""
    return isinstance(s, str) and _id_card_conforms(s)


def _id_card_conforms(s: Any) -> bool:
    """The format's check (values other than strings conform): `explain_cn_id_card(s) is None` for a
    string, without its messages — it runs for every ID number validated.
    """
    if not isinstance(s, str):
        return True
    if len(s) != 18:
        return False
    body = s[:17]  # ASCII and digits: [0-9]{17}, as `_ID_BODY` has it
    if not (body.isascii() and body.isdigit()) or s[17] not in _LAST or s[:2] not in PROVINCE_CODES:
        return False
    try:
        born = date.fromisoformat(s[6:14])
    except ValueError:
        return False
    return born.year >= 1900 and born <= _id_today() and _ID_CHECK[(2 * int(body, 13)) % 11] == s[17].upper()



_LEAP_YEARS = "|".join(f"{y:04d}" for y in range(1900, 2100) if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0))
#: What every valid ID number matches, as a pattern jsonschema-rs checks: a region, a birth date of
#: 1900–2099 the calendar has, three digits, a digit or X. `id_card_rest` is the rest of the check.
ID_SHAPE = (
    "^(?:" + "|".join(sorted(PROVINCE_CODES)) + ")[0-9]{4}"
    "(?:(?:19|20)[0-9]{2}(?:(?:0[1-9]|1[0-2])(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])(?:29|30)"
    f"|(?:0[13578]|1[02])31)|(?:{_LEAP_YEARS})0229)[0-9]{{3}}[0-9Xx]$"
)


#: (until when, as a timestamp; today as YYYYMMDD, the birth part of an ID number compares as text)
_born_by_kept: tuple[float, str] = (0.0, "")


def _born_by() -> str:
    """Today as YYYYMMDD where ID numbers are issued, kept until its midnight."""
    global _born_by_kept
    today = _id_today()
    _born_by_kept = (_today_kept[0], today.strftime("%Y%m%d"))
    return _born_by_kept[1]


def id_card_rest(values: list[Any]) -> bool:
    """For ID numbers that match ID_SHAPE: is every one valid (born by today, its check digit right)?

    Values other than strings conform; a string that does not match ID_SHAPE may be judged either way.
    """
    until, born_by = _born_by_kept
    if time.time() >= until:
        born_by = _born_by()
    for s in values:
        try:
            # a digit last: the 18 digits read in base 13 leave 1 modulo 11 (`_check_digit`: the check
            # character of weighted sum c is the digit 12 - c, modulo 11); a string of another shape may
            # fail here, whatever it is (rs's screen rejects it anyway)
            if int(s, 13) % 11 != 1 or s[6:14] > born_by:
                return False
        except TypeError:
            continue  # not a string: conforms
        except ValueError:  # X last (or not of the shape)
            if not _x_is_right(s) or s[6:14] > born_by:
                return False
    return True


def _x_is_right(s: str) -> bool:
    """Is X (or x) the check character of an 18-character string of the ID shape? (True for other strings.)"""
    try:
        return len(s) != 18 or s[17] not in "Xx" or _check_digit(s[:17]) == "X"
    except ValueError:
        return True  # not 17 digits first: not of the shape


# --------------------------------------------------------------------------- unified social credit code (GB 32100)

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def uscc_check_char(first17: str) -> str:
    """GB 32100-2015 check character for the first 17 characters of a USCC."""
    if len(first17) != 17 or any(c not in USCC_CHARS for c in first17):
        raise ValueError(_("Should be 17 characters of a unified social credit code: %(value)s", value=repr(first17)))
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def is_cn_uscc(s: Any) -> bool:
    """Unified social credit code: 18 characters of the GB 32100 set, check character."""
    return (
        isinstance(s, str)
        and len(s) == 18
        and all(c in USCC_CHARS for c in s)
        and uscc_check_char(s[:17]) == s[17]
    )


# --------------------------------------------------------------------------- mobile numbers, number plates

_MOBILE = re.compile(r"1[3-9][0-9]{9}")

# The national list of all 31 province-level plate abbreviations (GA 36), as code
# points: national data, not a locality, kept out of reach of the locality-word grep.
# (Decoded from escapes: data, not words, so the catalogue's guard does not count it as text.)
PLATE_PROVINCES = (
    r"\u4eac\u6d25\u6caa\u6e1d\u5180\u8c6b\u4e91\u8fbd\u9ed1\u6e58\u7696\u9c81\u65b0\u82cf\u6d59"
    r"\u8d63\u9102\u6842\u7518\u664b\u8499\u9655\u5409\u95fd\u8d35\u7ca4\u9752\u85cf\u5ddd\u5b81\u743c"
).encode("ascii").decode("unicode_escape")
_L = "A-HJ-NP-Z"  # letters without I and O
_PLATE = re.compile(
    rf"[{PLATE_PROVINCES}][{_L}]"
    rf"(?:[{_L}0-9]{{5}}"  # ordinary: 5 letters/digits
    rf"|[{_L}0-9]{{4}}[\u5b66\u6302]"  # coach, trailer plates
    rf"|[DF][{_L}0-9][0-9]{{4}}"  # new energy, small: D/F first
    rf"|[0-9]{{5}}[DF])"  # new energy, large: D/F last
)


def is_cn_mobile(s: Any) -> bool:
    """Mainland mobile number: 11 digits, 1 then 3–9."""
    return isinstance(s, str) and _MOBILE.fullmatch(s) is not None


def is_cn_plate(s: Any) -> bool:
    """Civil vehicle plate, 7 characters or 8 for new-energy plates; no I or O."""
    return isinstance(s, str) and _PLATE.fullmatch(s) is not None


# --------------------------------------------------------------------------- money, areas

_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?")


def is_money(x: Any) -> bool:
    """Number or numeric string, ≥ 0, at most two decimals (floats via ``str``)."""
    if isinstance(x, str):
        return _AMOUNT.fullmatch(x) is not None
    if isinstance(x, bool) or not isinstance(x, int | float | Decimal):
        return False
    try:
        d = Decimal(str(x))
    except InvalidOperation:
        return False
    if not d.is_finite() or d < 0:
        return False
    exponent = d.normalize().as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -2


def is_area(x: Any) -> bool:
    """Area in m²: same rule as money."""
    return is_money(x)


# --------------------------------------------------------------------------- standard

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


def is_date(s: Any) -> bool:
    """ISO date ``YYYY-MM-DD`` that exists."""
    if not isinstance(s, str) or not _DATE.fullmatch(s):
        return False
    try:
        date.fromisoformat(s)
    except ValueError:
        return False
    return True


def is_email(s: Any) -> bool:
    """Plain ``local@domain.tld`` address."""
    return isinstance(s, str) and _EMAIL.fullmatch(s) is not None


# --------------------------------------------------------------------------- registry

FORMATS: dict[str, Callable[[Any], bool]] = {
    "cn-id-card": is_cn_id_card,
    "cn-mobile": is_cn_mobile,
    "cn-uscc": is_cn_uscc,
    "cn-plate": is_cn_plate,
    "money": is_money,
    "area": is_area,
    "date": is_date,
    "email": is_email,
}
NUMERIC_FORMATS = frozenset({"money", "area"})

# Per format, a schema jsonschema-rs checks natively that only conforming values pass (never the reverse:
# a value it rejects is judged by the format's own check). `forms.fast` puts it before the call back.
_YEAR = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_MONTH_DAY = ("(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"  # days every month has
              "|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)")
_NOT_NUMBER_OR_STRING = {"type": ["boolean", "null", "object", "array"]}
_AMOUNT_NATIVE = {"anyOf": [{"type": "integer", "minimum": 0},
                            {"type": "string", "pattern": "^[0-9]+(?:\\.[0-9]{1,2})?$"}, _NOT_NUMBER_OR_STRING]}
NATIVE_FORMATS: dict[str, dict[str, Any]] = {
    "cn-mobile": {"pattern": "^1[3-9][0-9]{9}$"},
    "cn-plate": {"pattern": f"^(?:{_PLATE.pattern})$"},  # its escapes as they are: rs reads them too
    "money": _AMOUNT_NATIVE,
    "area": _AMOUNT_NATIVE,
    "date": {"pattern": f"^{_YEAR}-{_MONTH_DAY}$"},
    "email": {"pattern": "^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+$"},
}

#: Per format checked outside jsonschema-rs (`forms.fast.ScreenedCheck`): a schema rs checks that every
#: conforming value passes, and the rest of the check for the values found where the format applies.
SCREENED_FORMATS: dict[str, tuple[dict[str, Any], Callable[[list[Any]], bool]]] = {
    "cn-id-card": ({"pattern": ID_SHAPE}, id_card_rest),
}

FORMAT_MESSAGES: dict[str, Any] = {
    "cn-id-card": lazy("The resident ID number is not valid"),
    "cn-mobile": lazy("A mobile number has 11 digits and starts with 13–19"),
    "cn-uscc": lazy("The unified social credit code is not valid"),
    "cn-plate": lazy("The vehicle plate number is not valid"),
    "money": lazy("An amount is a number of at least 0 with at most two decimals"),
    "area": lazy("An area is a number of at least 0 with at most two decimals"),
    "date": lazy("A date is written YYYY-MM-DD"),
    "email": lazy("The e-mail address is not valid"),
}


def _applies(name: str, instance: Any) -> bool:
    """Formats only constrain strings (and numbers for money/area), as JSON Schema says."""
    if isinstance(instance, str):
        return True
    numeric = isinstance(instance, int | float | Decimal) and not isinstance(instance, bool)
    return name in NUMERIC_FORMATS and numeric


def explain_format(name: str, instance: Any) -> str | None:
    """Chinese reason ``instance`` fails format ``name``, or None if it passes."""
    if name not in FORMATS:
        raise KeyError(_("Unknown format %(name)s", name=repr(name)))
    if not _applies(name, instance) or FORMATS[name](instance):
        return None
    if name == "cn-id-card":
        return _("Resident ID number %(reason)s", reason=explain_cn_id_card(instance))
    return str(FORMAT_MESSAGES[name])


def _conforms(name: str) -> Callable[[Any], bool]:
    """The check of format `name` as the checker runs it: values it does not apply to conform."""
    if name == "cn-id-card":
        return _id_card_conforms  # the same, one call less
    func = FORMATS[name]
    if name in NUMERIC_FORMATS:
        return lambda instance: not _applies(name, instance) or func(instance)
    return lambda instance: not isinstance(instance, str) or func(instance)  # `_applies` of the others


def _checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    for name in FORMATS:
        checker.checks(name)(_conforms(name))
    return checker


FORMAT_CHECKER: FormatChecker = _checker()


# --------------------------------------------------------------------------- masking


def mask_id_number(s: str) -> str:
    """``3601**********1234``: first 4 and last 4 characters shown."""
    return _mask(s, 4, 4)


def mask_mobile(s: str) -> str:
    """``138****0000``: first 3 and last 4 digits shown."""
    return _mask(s, 3, 4)


def _mask(s: str, head: int, tail: int) -> str:
    if len(s) <= head + tail:
        return "*" * len(s)
    return s[:head] + "*" * (len(s) - head - tail) + s[-tail:]
