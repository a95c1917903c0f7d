"""Did you mean …": the known names closest to an unknown one (difflib), for every unknown-name problem."""

from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher, get_close_matches
from typing import Any

from formflow.text.catalogue import _

#: How alike a known name must be to be suggested (difflib's ratio), and how many are offered.
CUTOFF = 0.6
OFFERED = 3
#: A further name is offered only when it is nearly as close as the closest one.
CLOSE_TO_BEST = 0.05


def close_names(name: Any, known: Iterable[Any]) -> list[str]:
    """The known names most like `name`, best first (none when `name` is not a string)."""
    if not isinstance(name, str) or not name:
        return []
    choices = sorted({str(k) for k in known if k is not None and str(k) != name})
    found = get_close_matches(name, choices, n=OFFERED, cutoff=CUTOFF)
    if not found:
        return []
    # only the names about as close as the closest: a clear typo gets one suggestion
    best = SequenceMatcher(None, name, found[0]).ratio()
    return [n for n in found if SequenceMatcher(None, name, n).ratio() >= best - CLOSE_TO_BEST]


def best_guess(name: Any, known: Iterable[Any]) -> str | None:
    """The one known name `name` was most probably meant to be, or None."""
    found = close_names(name, known)
    return found[0] if found else None


def did_you_mean(name: Any, known: Iterable[Any]) -> str:
    """A suffix for a problem message: " (did you mean 'x'?)", or "" when nothing is close."""
    found = close_names(name, known)
    if not found:
        return ""
    return _(" (did you mean %(names)s?)", names=_(", ").join(repr(n) for n in found))
