"""The diagram's words for people, in one place: levels, results, captions, tips, the legend."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from formflow.text.catalogue import _, lazy

LEVEL_TITLES: dict[str, Any] = {
    "province": lazy("Province level"),
    "city": lazy("City level"),
    "district": lazy("District level"),
    "street": lazy("Street level"),
    "community": lazy("Community level"),
}
RESULT_TITLES: dict[str, Any] = {
    "approved": lazy("Closed: approved"),
    "rejected": lazy("Closed: rejected"),
    "not_accepted": lazy("Closed: not accepted"),
    "withdrawn": lazy("Closed: withdrawn by the applicant"),
}
TXT_SUBMIT = lazy("The applicant submits")
TXT_NO_LIMIT = lazy("No time limit of its own (bound by the overall limit)")
TXT_LIMIT = lazy("Time limit %(limit)s")  # % {"limit": …}
TXT_DURATION = lazy("Period %(period)s, moves on when it ends")
TXT_OBJECTIONS = lazy("Objections may be recorded during the period")
TXT_JOIN = lazy("Entered when every parallel branch is done")
TXT_EXPIRY = lazy("When the period ends")
TXT_EXPIRY_OBJECTIONS = lazy("When the period ends with no objection upheld")
TXT_COMMITMENT = lazy("%(title)s: %(period)s (counted from “%(start)s”)")
TXT_COMMITMENT_SUBMIT = lazy("%(title)s: %(period)s (counted from the submission)")
TXT_COMMITMENT_DEFAULT = lazy("Committed time limit")
TXT_CITIZEN = lazy("Applicant's action: %(title)s → %(targets)s (%(where)s)")
TXT_CITIZEN_ANY = lazy("At any stage not yet closed")
TXT_CITIZEN_FROM = lazy("Possible at: %(stages)s")
TXT_NOTICE_TIP = lazy("Issues “%(notice)s”")
TXT_REASON_TIP = lazy("A reason is required")
TXT_EMPTY = lazy("The workflow has no stages")
LEGEND_ACTION = lazy("Action")
LEGEND_EXPIRY = lazy("Moves on when the period ends")
LEGEND_BAR = lazy("Parallel branches / join")
LEGEND_NOTICE = lazy("Issues a document")
LEGEND_REASON = lazy("A reason is required")
LEGEND_LOOP = lazy("In-stage actions such as corrections (same stage, time limit paused)")
LEGEND_REVIEW = lazy("Review stage")
LEGEND_TIMER = lazy("Timed stage")
NOTICE_MARK = "✉"
REASON_MARK = "✎"
LOOP_MARK = "↻"


def period_text(period: Any) -> str:
    """{days: 3, unit: working} → "3 working days"; calendar days → "20 days" (catalogue wording)."""
    if not isinstance(period, Mapping) or period.get("days") is None:
        return ""
    days = period.get("days")
    if isinstance(days, Mapping):  # a document not loaded yet: `{param: id}` is shown as the parameter's id
        days = str(days.get("param") or "")
    if period.get("unit", "working") == "working":
        return _("%(days)s working days", days=days)
    return _("%(days)s days", days=days)


def level_title(level: Any) -> str:
    return LEVEL_TITLES.get(str(level), str(level or ""))
