"""The words for an application's status and result: ONE table, read by the portal, the window, the desk and the API.

`Application.status` is draft | active | closed; `Application.result` (once closed, or
withdrawn) is approved | rejected | withdrawn | not_accepted. A workflow may word its own
outcome (its end stage's title): `usecases.viewing.result_title` prefers that; these are
the platform's words for everything else.
"""

from __future__ import annotations

from typing import Any

from formflow.text.catalogue import lazy

STATUS_TITLES: dict[str, Any] = {
    "draft": lazy("Draft (not submitted)"),
    "active": lazy("In progress"),
    "closed": lazy("Closed"),
}
RESULT_TITLES: dict[str, Any] = {
    "approved": lazy("Approved"),
    "rejected": lazy("Not approved"),
    "withdrawn": lazy("Withdrawn"),
    "not_accepted": lazy("Not accepted"),
}


def status_title(status: str | None) -> str:
    """The status as a person reads it (an unknown status: its code)."""
    title = STATUS_TITLES.get(status or "")
    return str(title) if title is not None else str(status or "")


def result_word(result: str | None) -> str:
    """The platform's word for a result ("" for none; an unknown result: its code)."""
    if not result:
        return ""
    title = RESULT_TITLES.get(result)
    return str(title) if title is not None else result


__all__ = ["RESULT_TITLES", "STATUS_TITLES", "result_word", "status_title"]
