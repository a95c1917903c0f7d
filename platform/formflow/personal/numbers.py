"""A person's sealed ID or mobile number, opened: one rule for every view ("" when absent or unreadable)."""

from __future__ import annotations

from typing import Any


def opened(keys: Any, sealed: bytes | None) -> str:
    """The plaintext of a sealed number; "" when there is none or it cannot be opened (shown as absent)."""
    if not sealed:
        return ""
    try:
        return str(keys.open(sealed))
    except Exception:  # noqa: BLE001 - an unreadable number is shown as absent, never as an error page
        return ""


def id_number_of(keys: Any, account: Any) -> str:
    """The account's ID number ("" for none)."""
    return opened(keys, getattr(account, "id_number_enc", None)) if account is not None else ""


def mobile_of(keys: Any, account: Any) -> str:
    """The account's mobile number ("" for none)."""
    return opened(keys, getattr(account, "mobile_enc", None)) if account is not None else ""
