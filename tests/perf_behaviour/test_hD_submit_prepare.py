"""Submission walks the form once: the same data, household and warnings as the separate checks.

`usecases.submit._prepare` prunes, writes the computed values and keeps the walk and the rule
variables for the household and the pre-check's warnings when they still hold. On a corpus of
drafts (computed values present, missing, wrong; hidden values present; no spouse; odd types)
it must give exactly what `apply_computed`, `household` and `precheck` give one by one.
"""

from __future__ import annotations

import copy
import json
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from drafts import HOME_OFFICE, MATTER, PACK, form_data, with_materials  # noqa: E402

from formflow.applications import drafts as apps  # noqa: E402
from formflow.db.models import Account  # noqa: E402
from formflow.usecases import submit as usecase  # noqa: E402

TODAY = date(2026, 3, 2)


def _old_warnings(pinned, data, today) -> list[str]:
    check = apps.precheck(pinned, data, today)
    if check.eligibility is None:
        return []
    return [str(c.id) for c in check.eligibility.conditions if c.holds is not True]


def _corpus(pinned) -> list[dict]:
    base = with_materials(pinned, form_data(3), TODAY)
    saved = apps.apply_computed(pinned, copy.deepcopy(base), TODAY)  # what a save leaves: computed values written
    out = [base, saved]
    single = copy.deepcopy(saved)
    single["members"]["applicant"]["marital_status"] = "unmarried"
    single["members"]["co_applicants"] = []
    out.append(single)
    wrong = copy.deepcopy(saved)
    for step in wrong.values():
        if isinstance(step, dict):
            for key, value in list(step.items()):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    step[key] = float(value) + 0.0 if isinstance(value, int) else int(value)
    out.append(wrong)
    hidden = copy.deepcopy(saved)
    hidden["housing"]["owns_property"] = False
    hidden["housing"]["owned_housing_area_total"] = 55  # shown only to owners
    out.append(hidden)
    rich = copy.deepcopy(saved)
    rich["assets"]["deposits"] = 10**9
    rich["members"]["applicant"]["monthly_income"] = 99999
    out.append(rich)
    other = copy.deepcopy(saved)
    other["category"]["applicant_category"] = "newly-employed"
    out.append(other)
    out.append({k: {} for k in saved})
    resaved = [apps.apply_computed(pinned, apps.form_of(pinned).prune_hidden(v), TODAY) for v in out[2:]]
    return out + resaved


def test_prepare_gives_what_the_separate_checks_give(sqlite_platform):
    p = sqlite_platform
    with p.sessions.begin() as session:
        account = Account(username="hd-prepare", display_name="申请人", is_demo=False)
        session.add(account)
        session.flush()
        app = apps.start_draft(session, p.packs, applicant=account, pack=PACK, matter=MATTER,
                               office_id=HOME_OFFICE, channel="community")
        pinned = apps.pinned_of(session, app)
    form = apps.form_of(pinned)
    reused = 0
    for raw in _corpus(pinned):
        before = json.dumps(raw, sort_keys=True)
        expected = apps.apply_computed(pinned, form.prune_hidden(copy.deepcopy(raw)), TODAY)
        got = usecase._prepare(pinned, form, raw, TODAY)
        assert json.dumps(raw, sort_keys=True) == before  # the row's data is not changed
        assert json.dumps(got.data, sort_keys=True) == json.dumps(expected, sort_keys=True)
        if got.nodes is not None:
            reused += 1
            assert apps.household_in(got.nodes, got.data) == apps.household(pinned, expected)
        assert usecase._warnings(pinned, got.data, TODAY, got.scope) == _old_warnings(pinned, expected, TODAY)
        assert usecase._warnings(pinned, got.data, TODAY) == _old_warnings(pinned, expected, TODAY)
    assert reused >= 6  # the fast path is taken for saved drafts
