"""A Meizhou copy whose workflow draws lots after the last approval: `lottery` → `allocated` | `waiting`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from wf_support import MZ, Flow, drive

from formflow.allocation.config import allocation_of
from formflow.db.models import Application

WORKFLOW = "workflows/meizhou-meijiang/public-rental-housing.yaml"
MATTER = "public-rental-housing"
FLATS = "F-101, 江南路1号101, 一室一厅, 40.5, 1, 2\nF-201, 江南路1号201, 两室一厅, 60, 3, 4"


def with_lottery_stage(content: dict) -> None:
    stages = content["stages"]
    stages["leader_approval"]["actions"]["approve"]["to"] = "lottery"
    stages["lottery"] = {
        "title": "抽签配租", "kind": "lottery", "owner": {"role": "housing_bureau_reviewer", "level": "district"},
        "on_win": "allocated", "on_lose": "waiting",
        "entrant": {"size": {"var": "computed.household_size"}, "name": {"var": "data.members.applicant.name"}},
    }
    stages["allocated"] = {
        "title": "签订租赁合同", "owner": {"role": "housing_bureau_reviewer", "level": "district"},
        "actions": {"sign": {"title": "已签订租赁合同", "to": "approved"}},
    }
    stages["waiting"] = {
        "title": "继续轮候", "owner": {"role": "housing_bureau_reviewer", "level": "district"},
        "actions": {"next_round": {"title": "参加下一批抽签", "to": "lottery"}},
    }


def data(size: int, name: str = "陈志强") -> dict[str, Any]:
    return {"members": {"applicant": {"name": name},
                        "co_applicants": [{"name": f"成员{i}"} for i in range(size - 1)]}}


def at_lottery(flow: Flow, size: int, day, name: str = "陈志强") -> int:
    """A new application of household `size`, driven through the approval chain to the lottery stage."""
    app_id = flow.create(MZ, today=day)
    with flow.p.sessions.begin() as s:
        s.get(Application, app_id).data = data(size, name)
    reached = drive(flow, app_id, MZ, "leader_approval", day)
    flow.act(app_id, "leader_approval", "approve", "mj-leader", today=reached, mark=True)
    assert flow.app(app_id).stages == ["lottery"]
    return app_id


def alloc(packs):
    return allocation_of(packs, MZ, MATTER)


def number(flow: Flow, app_id: int) -> str:
    with flow.p.sessions() as s:
        return s.scalar(select(Application.number).where(Application.id == app_id))
