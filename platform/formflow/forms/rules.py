"""Computed values and eligibility: JSON Logic over form data and parameters.

JSON Logic (panzi-json-logic) is the safe expression language: no attribute
access, no calls but the operations listed here. Added operations cover what
housing rules need and JSON Logic lacks: date arithmetic and sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from json_logic import jsonLogic
from json_logic.builtins import BUILTINS

#: Operations whose second argument is evaluated against each array item.
ITERATING_OPS = frozenset({"map", "filter", "all", "some", "none", "reduce"})
#: Variables under `meta.` a rule may read.
META_VARIABLES = frozenset({"today"})


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError):
        return None


def months_between(_data: Any, start: Any = None, end: Any = None, *_: Any) -> int | None:
    """Whole months from `start` to `end` (negative if `end` is earlier); None if a date is missing."""
    a, b = _date(start), _date(end)
    if a is None or b is None:
        return None
    months = (b.year - a.year) * 12 + (b.month - a.month)
    if months > 0 and b.day < a.day:
        months -= 1
    elif months < 0 and b.day > a.day:
        months += 1
    return months


def years_between(data: Any, start: Any = None, end: Any = None, *_: Any) -> int | None:
    months = months_between(data, start, end)
    return None if months is None else int(months / 12)


def days_between(_data: Any, start: Any = None, end: Any = None, *_: Any) -> int | None:
    a, b = _date(start), _date(end)
    return None if a is None or b is None else (b - a).days


def _number(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "", True, False) else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


def sum_of(_data: Any, items: Any = None, *_: Any) -> float:
    total = sum((_number(v) for v in items or [] if not isinstance(v, (dict, list))), Decimal(0))
    return float(total)


def count_of(_data: Any, items: Any = None, *_: Any) -> int:
    return len(items) if isinstance(items, list) else 0


def round_to(_data: Any, value: Any = None, digits: Any = 2, *_: Any) -> float | None:
    if value is None:
        return None
    quantum = Decimal(1).scaleb(-int(digits or 0))
    return float(_number(value).quantize(quantum, rounding=ROUND_HALF_UP))


OPERATIONS = {
    **BUILTINS,
    "months_between": months_between,
    "years_between": years_between,
    "days_between": days_between,
    "sum": sum_of,
    "count": count_of,
    "round": round_to,
}


def evaluate(logic: Any, variables: dict[str, Any]) -> Any:
    """Value of a JSON Logic expression; evaluation errors give None, never a crash."""
    try:
        return jsonLogic(logic, variables, OPERATIONS)
    except (TypeError, ValueError, ArithmeticError, KeyError, IndexError):
        return None


@dataclass(frozen=True)
class Condition:
    id: str
    title: str
    holds: bool | None
    shown: dict[str, Any]


@dataclass(frozen=True)
class Eligibility:
    category: str
    title: str
    conditions: list[Condition]

    @property
    def eligible(self) -> bool:
        return all(c.holds for c in self.conditions)


class RuleSet:
    """A matter's rules.yaml and its parameters, ready to evaluate against form data."""

    def __init__(self, rules: dict[str, Any], parameters: dict[str, Any]) -> None:
        self.rules = rules or {}
        self.params = {k: v.get("value") for k, v in (parameters or {}).get("parameters", {}).items()}

    def variables(self, data: dict[str, Any], today: date) -> dict[str, Any]:
        """data, params, meta and every computed value, in order."""
        scope: dict[str, Any] = {
            "data": data,
            "params": self.params,
            "meta": {"today": today.isoformat()},
            "computed": {},
        }
        for name, spec in (self.rules.get("computed") or {}).items():
            scope["computed"][name] = evaluate(spec.get("logic"), scope)
        return scope

    def computed(self, data: dict[str, Any], today: date) -> dict[str, Any]:
        return self.variables(data, today)["computed"]

    def eligibility(self, category: str, data: dict[str, Any], today: date,
                    scope: dict[str, Any] | None = None) -> Eligibility | None:
        """The category's conditions on `data`; `scope`: its `variables` when the caller has them."""
        spec = (self.rules.get("eligibility") or {}).get(category)
        if spec is None:
            return None
        scope = scope if scope is not None else self.variables(data, today)
        conditions = []
        for cond in spec.get("conditions") or []:
            result = evaluate(cond.get("logic"), scope)
            shown = {name: evaluate({"var": name}, scope) for name in cond.get("shows") or []}
            conditions.append(
                Condition(cond.get("id", ""), cond.get("title", ""), None if result is None else bool(result), shown)
            )
        return Eligibility(category, spec.get("title", category), conditions)
