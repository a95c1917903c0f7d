"""Stage form fixtures: a copy of the Meizhou pack whose street review has reviewer-entered fields."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from sf_support import MZ, StagePack

from formflow.packs import load_packs

TODAY = date(2026, 3, 2)

#: The street review's own fields (the street investigates the household's income and visits it, 004 九、2).
STREET_FORM = {
    "type": "object",
    "required": ["verified_income"],
    "properties": {
        "verified_income": {"type": "number", "title": "核定家庭人均月收入（元）", "minimum": 0, "format": "money"},
        "appointment": {"type": "string", "format": "date", "title": "入户调查日期"},
        "household_visited": {"type": "boolean", "title": "已入户调查"},
    },
}
#: Approving at the street needs the verified income at or below the subsistence line (900 元 in the pack).
INCOME_RULE = {"<=": [{"var": "stage.street_review.verified_income"}, {"var": "params.subsistence_line"}]}


def write_stage_form_pack(root) -> None:
    path = root / "workflows" / MZ / "public-rental-housing.yaml"
    wf = yaml.safe_load(path.read_text(encoding="utf-8"))
    street = wf["stages"]["street_review"]
    street["form"] = STREET_FORM
    street["actions"]["approve"]["guard"] = {"outcome": "pass", "rule": INCOME_RULE}
    path.write_text(yaml.safe_dump(wf, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture
def stage_pack(config_copy, sqlite_platform) -> StagePack:
    write_stage_form_pack(config_copy)
    packs = load_packs(config_copy)
    assert not packs.problems, packs.problems
    sqlite_platform.packs = packs
    sqlite_platform.root = config_copy
    return StagePack(sqlite_platform, TODAY)
