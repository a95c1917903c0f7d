"""The guard `outcome` reads the latest marking of the stage's table, now read with the lock.

`engine.perform` reads the latest marking at the stage (of any table) in the statement that locks the
application, and uses it when it is of the stage's table; otherwise it asks `latest_marking` as before.
`engine.available_actions` reads it once per stage for all the stage's actions.
These tests give both answers on both databases: a failed marking refuses, a later pass allows, and a
later marking of another table at the same stage changes nothing.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tests" / "workflow") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "workflow"))

from wf_support import MZ, Flow  # noqa: E402

from formflow.calendars.workdays import load_calendar  # noqa: E402
from formflow.db.models import Account, Application, ReviewMarking  # noqa: E402
from formflow.workflow import engine  # noqa: E402
from formflow.workflow.errors import GuardNotMet  # noqa: E402
from formflow.workflow.moves import workflow_of  # noqa: E402

DAY = date(2026, 3, 2)
STAGE, USER = "community_acceptance", "mj-community"


@pytest.fixture
def flow(platform_db) -> Flow:
    return Flow(platform_db, load_calendar(ROOT / "seeds" / "calendar"))


def _other_table_marking(flow: Flow, app_id: int, outcome: str) -> None:
    """A marking at the stage of a table that is not the stage's (as if the table had been renamed)."""
    with flow.p.sessions.begin() as s:
        reviewer = s.scalar(select(Account).where(Account.username == USER))
        s.add(ReviewMarking(application_id=app_id, stage=STAGE, table_id="another-table", table_version="x" * 64,
                            marking={"rows": {}}, outcome=outcome, reviewer_id=reviewer.id))


def _refused_as_listed(flow: Flow, app_id: int) -> None:
    """`perform` refuses with the reason `available_actions` gives, which is the guard's read the slow way."""
    actor = flow.account(USER)
    with flow.p.sessions() as s:
        app = s.get(Application, app_id)
        listed = {a.action: a for a in engine.available_actions(s, app, actor, today=DAY)}
        spec = workflow_of(s, app)
        stage = spec.stages[STAGE]
        for action in stage.actions.values():  # each guard as read without anything read beforehand
            assert listed[action.id].why_not == engine._guard_reason(s, app, spec, stage, action, actor, DAY)
    assert not listed["accept"].allowed
    with pytest.raises(GuardNotMet) as refused:
        flow.act(app_id, STAGE, "accept", USER, today=DAY)
    assert refused.value.why == listed["accept"].why_not


def test_a_failed_marking_refuses_and_a_later_pass_allows(flow):
    app_id = flow.create(MZ, today=DAY)
    _refused_as_listed(flow, app_id)  # no marking yet
    flow.mark(app_id, STAGE, USER, fail_row="1")
    _refused_as_listed(flow, app_id)  # its outcome is fail
    flow.mark(app_id, STAGE, USER)
    assert flow.act(app_id, STAGE, "accept", USER, today=DAY).stages == ("street_review",)


@pytest.mark.parametrize(("table_outcome", "other_outcome", "allowed"),
                         [("fail", "pass", False), ("pass", "fail", True)])
def test_a_later_marking_of_another_table_changes_nothing(flow, table_outcome, other_outcome, allowed):
    app_id = flow.create(MZ, today=DAY)
    flow.mark(app_id, STAGE, USER, fail_row="1" if table_outcome == "fail" else None)
    _other_table_marking(flow, app_id, other_outcome)
    if allowed:
        assert flow.act(app_id, STAGE, "accept", USER, today=DAY).stages == ("street_review",)
    else:
        _refused_as_listed(flow, app_id)
        with flow.p.sessions() as s:
            assert s.get(Application, app_id).stages == [STAGE]
