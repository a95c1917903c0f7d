"""An application keeps moving under the workflow it pinned, whatever the file says now."""

from __future__ import annotations

from datetime import date

import yaml
from wf_support import MZ, Flow

from formflow.packs import load_packs

DAY = date(2026, 3, 2)


def test_pinned_workflow_survives_edits(config_copy, wf_sqlite, calendar):
    before = Flow(wf_sqlite, calendar, load_packs(config_copy))
    old_app = before.create(MZ, today=DAY)

    path = config_copy / "workflows" / MZ / "public-rental-housing.yaml"
    wf = yaml.safe_load(path.read_text(encoding="utf-8"))
    wf["stages"]["community_acceptance"]["actions"]["accept"]["to"] = "second_check"
    wf["stages"]["second_check"] = {
        "title": "复核受理", "owner": {"role": "community_clerk", "level": "community"},
        "actions": {"pass": {"title": "复核通过", "to": "street_review"}},
    }
    wf["stages"]["community_acceptance"]["time_limit"] = {"days": 1, "unit": "working"}
    path.write_text(yaml.safe_dump(wf, allow_unicode=True, sort_keys=False), encoding="utf-8")
    packs = load_packs(config_copy)
    assert not packs.problems
    after = Flow(wf_sqlite, calendar, packs)
    new_app = after.create(MZ, today=DAY)

    assert before.app(old_app).versions["workflow"] != after.app(new_app).versions["workflow"]
    assert before.app(old_app).deadline == date(2026, 3, 5)
    assert after.app(new_app).deadline == date(2026, 3, 3)
    t_old = after.act(old_app, "community_acceptance", "accept", "mj-community", today=DAY, mark=True)
    t_new = after.act(new_app, "community_acceptance", "accept", "mj-community", today=DAY, mark=True)
    assert t_old.stages == ("street_review",)
    assert t_new.stages == ("second_check",)
