"""The one formatter: every value a person reads goes through here.

- enum values → their titles (`x-enum-titles` of the pinned form's node);
- booleans → yes/no (from the catalogue); numbers without float noise;
- money → `1,200.00` with the catalogue's currency word; dates and times in the deployment time zone
  (Asia/Shanghai unless `FORMFLOW_TZ` says otherwise), `local_time` for
  pages, PDFs and exports, `iso` (ISO 8601 with offset) for the API;
- ID and mobile numbers masked (`mask_id`, `mask_mobile`); the full value is
  shown only by a use case that records the view.

Templates get the same functions as filters (`|when`, `|day`, `|money`,
`|yesno`, `|masked_id`, `|masked_mobile`, `|shown`), installed by `init_app`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from formflow.text.catalogue import DEFAULT_LOCALE, _, in_locale

DEFAULT_TZ = "Asia/Shanghai"
EMPTY = "—"
#: Drawn signatures stored in form data that a page may show as an image.
SIGNATURE_IMAGES = ("data:image/png;base64,", "data:image/jpeg;base64,")


def zone() -> ZoneInfo:
    """The deployment's time zone (settings of the running app, else FORMFLOW_TZ, else Shanghai)."""
    try:
        from flask import current_app, has_app_context

        if has_app_context():
            ext = current_app.extensions.get("formflow")
            if ext is not None:
                return ZoneInfo(ext["settings"].timezone)
    except Exception:  # noqa: BLE001 - formatting never fails on wiring
        pass
    return ZoneInfo(os.environ.get("FORMFLOW_TZ", DEFAULT_TZ))


def aware(value: datetime) -> datetime:
    """Stored instants are UTC; SQLite hands them back naive."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def local(value: datetime) -> datetime:
    return aware(value).astimezone(zone())


def local_time(value: datetime | None, *, seconds: bool = False) -> str:
    """`2026-03-02 15:28` in the deployment zone."""
    if value is None:
        return ""
    return local(value).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def day(value: date | datetime | None) -> str:
    """`2026-03-02` (an instant is first put in the deployment zone)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value).date()
    return value.isoformat()


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with the deployment zone's offset (`2026-03-02T15:28:00+08:00`), for the API."""
    if value is None:
        return None
    return local(value).isoformat(timespec="seconds")


def when(value: date | datetime | None) -> str:
    """An instant as `local_time`, a date as `day` (what a page prints for either)."""
    if isinstance(value, datetime):
        return local_time(value)
    return day(value)


def yesno(value: Any) -> str:
    return _("Yes") if value else _("No")


def number(value: Any) -> str:
    """1200 → `1200`, 12.5 → `12.5`, never `12.500000001`."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return yesno(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def money(value: Any, unit: str | None = None) -> str:
    """`1,200.00` and the currency word (the unit from the catalogue unless the form names one)."""
    if value is None or value == "":
        return EMPTY
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{amount:,.2f} {unit or _('yuan')}"


def is_money_unit(unit: str | None) -> bool:
    """Units of money (yuan, yuan a month, yuan a year: the currency word of the authority's language)."""
    if not unit:
        return False
    return str(unit).startswith(in_locale(DEFAULT_LOCALE, "yuan")) or str(unit).startswith(_("yuan"))


def with_unit(value: Any, unit: str | None) -> str:
    """A number with its unit: money as `1,200.00` yuan a month, anything else as `12.5 m²`."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return yesno(value)
    if isinstance(value, (int, float, Decimal)) and is_money_unit(unit):
        return money(value, unit)
    text = number(value)
    return f"{text} {unit}" if unit else text


def signature_image(value: Any) -> str | None:
    """A drawn signature's data URL when it is one a page may show as an image, else None."""
    if isinstance(value, str) and value.startswith(SIGNATURE_IMAGES) and len(value) < 2_000_000:
        return value
    return None


def mask_id(value: Any) -> str:
    from formflow.forms.formats import mask_id_number

    return mask_id_number(str(value)) if value else ""


def mask_mobile(value: Any) -> str:
    from formflow.forms.formats import mask_mobile as mask

    return mask(str(value)) if value else ""


def enum_title(value: Any, enum: Sequence[Any] | None, titles: Sequence[Any] | None) -> str:
    """The title of `value` among the node's `enum`/`x-enum-titles`, else the value as it is."""
    if enum and titles and value in enum:
        index = list(enum).index(value)
        if index < len(titles):
            return str(titles[index])
    return shown(value)


def shown(value: Any, schema: dict[str, Any] | None = None) -> str:
    """Any value as a person reads it, using what its schema node says (enum titles, unit, format)."""
    schema = schema or {}
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return yesno(value)
    if isinstance(value, str) and value.startswith("data:"):
        return _("(signed by hand)") if value.startswith("data:image/") else _("(file)")
    if "enum" in schema and "x-enum-titles" in schema:
        return enum_title(value, schema.get("enum"), schema.get("x-enum-titles"))
    if schema.get("format") == "money" or schema.get("x-widget") == "money":
        return money(value, schema.get("x-unit"))
    if schema.get("format") == "cn-id-card":
        return mask_id(value)
    if schema.get("format") == "cn-mobile":
        return mask_mobile(value)
    if isinstance(value, datetime):
        return local_time(value)
    if isinstance(value, date):
        return day(value)
    if isinstance(value, (int, float, Decimal)):
        return with_unit(value, schema.get("x-unit"))
    if isinstance(value, list):
        return _(", ").join(shown(v, schema.get("items") if isinstance(schema.get("items"), dict) else None)
                        for v in value)
    return str(value)


def init_app(app: Any) -> None:
    """The same functions as Jinja filters on every page."""
    app.jinja_env.filters.update(
        when=when, day=day, money=money, yesno=yesno, masked_id=mask_id, masked_mobile=mask_mobile,
        shown=shown, number=number,
    )
