"""The subsidy roster (one per period): subsidised households and their amounts for one period.

The amount per month is the pack's `subsidy.monthly_amount` (JSON Logic over
the household and the parameters); the roster pays each month of the period
from the month the subsidy started. A household whose subsidy was stopped is
not on any later roster. A roster is a stored snapshot; building it again
for the same period replaces it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.allocation.config import SUBSIDISED, SUBSIDY, Allocation
from formflow.allocation.register import AllocationError, household_scope, record, recorded
from formflow.db.models import Account, Household, SubsidyRoster, utcnow
from formflow.forms.rules import evaluate
from formflow.text import formatting
from formflow.text.catalogue import _
from formflow.text.errors import FieldProblem

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Period:
    label: str
    months: tuple[date, ...]

    @property
    def start(self) -> date:
        return self.months[0]

    @property
    def end(self) -> date:
        last = self.months[-1]
        nxt = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
        return date.fromordinal(nxt.toordinal() - 1)


def parse_period(label: str, kind: str) -> Period:
    """`2026-Q1` for quarters, `2026-03` for months."""
    label = (label or "").strip().upper()
    if kind == "quarter":
        m = re.fullmatch(r"(\d{4})-Q([1-4])", label)
        if not m:
            raise AllocationError(_("A quarter is written like 2026-Q1"), code="period_format",
                                  fields=[FieldProblem("/period", _("A quarter is written like 2026-Q1"))])
        year, q = int(m.group(1)), int(m.group(2))
        return Period(label, tuple(date(year, 3 * (q - 1) + i, 1) for i in (1, 2, 3)))
    m = re.fullmatch(r"(\d{4})-(\d{2})", label)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise AllocationError(_("A month is written like 2026-03"), code="period_format",
                              fields=[FieldProblem("/period", _("A month is written like 2026-03"))])
    return Period(label, (date(int(m.group(1)), int(m.group(2)), 1),))


def current_period(today: date, kind: str) -> str:
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}" if kind == "quarter" else f"{today:%Y-%m}"


def money(value: Any) -> Decimal:
    try:
        return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except ArithmeticError:
        return Decimal("0.00")


def rows_for(session: Session, alloc: Allocation, period: Period, *, today: date) -> list[dict[str, Any]]:
    spec = alloc.subsidy
    if spec is None:
        raise AllocationError(_("This matter has no rental subsidy configured (subsidy in allocation.yaml)"),
                              code="no_subsidy")
    households = session.scalars(
        select(Household).where(Household.pack == alloc.pack, Household.matter == alloc.matter,
                                Household.kind == SUBSIDY, Household.status == SUBSIDISED)
        .order_by(Household.code)
    )
    rows = []
    for h in households:
        since = h.since or h.approved_on
        months = sum(1 for m in period.months if (m.year, m.month) >= (since.year, since.month))
        if months == 0:
            continue
        monthly = evaluate(spec["monthly_amount"], household_scope(h, alloc, today))
        monthly_d = money(monthly if isinstance(monthly, (int, float)) else 0)
        rows.append({
            "household": h.id, "code": h.code, "name": h.name, "id_masked": h.id_masked,
            "application": h.application_id, "mode": h.mode,
            "facts": {name: (h.facts or {}).get(name) for name in spec.get("columns") or []},
            "monthly": str(monthly_d), "months": months, "amount": str((monthly_d * months).quantize(CENT)),
        })
    return rows


def build_roster(session: Session, alloc: Allocation, label: str, actor: Account, *, today: date) -> SubsidyRoster:
    """Compute and store the period's roster (replacing an earlier one); each row's household records it."""
    period = parse_period(label, (alloc.subsidy or {}).get("period", "quarter"))
    rows = rows_for(session, alloc, period, today=today)
    total = sum((Decimal(r["amount"]) for r in rows), Decimal("0.00"))
    roster = session.scalar(select(SubsidyRoster).where(
        SubsidyRoster.pack == alloc.pack, SubsidyRoster.matter == alloc.matter, SubsidyRoster.period == period.label))
    if roster is None:
        roster = SubsidyRoster(pack=alloc.pack, matter=alloc.matter, period=period.label)
        session.add(roster)
    roster.rows, roster.total, roster.created_by, roster.created_at = rows, str(total), actor.id, utcnow()
    session.flush()
    for row in rows:
        h = session.get_one(Household, row["household"])  # the rows were just computed from these households
        record(session, h, "rostered", actor,
               note=recorded("%(period)s subsidy %(amount)s (%(months)s months)", period=period.label,
                             amount=formatting.money(row["amount"], recorded("yuan")), months=row["months"]),
               details={"roster": roster.id, "period": period.label, "amount": row["amount"]})
    return roster
