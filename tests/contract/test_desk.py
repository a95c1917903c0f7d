"""The engine's reasons read the same on the desk and the API, in the person's language.

ONE table of scenarios, run on each channel (desk, API) in each language (zh, en):
why an action cannot be taken now — shown next to the disabled button and in the
API's `why_not` — and the refusal when it is taken anyway (same code, same
message). Chinese is exactly what it was; English comes from the catalogue. The
stored records do not move (a refused action writes no event).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from formflow.db.models import Account, Application, Event
from formflow.packs.versions import load_pinned
from formflow.reviews.tables import record_marking

from .desk_channels import CHANNELS, LANGUAGES, channel
from .review_channels import Api, Outcome, desk_support

TODAY = date(2026, 3, 2)
STAGE = "community_acceptance"
CLERK = "mj-community"


@pytest.fixture
def api(sqlite_platform) -> Api:
    return Api(sqlite_platform, TODAY)


def _version(p, app_id: int) -> int:
    with p.sessions() as s:
        return s.get(Application, app_id).version


def _events(p, app_id: int) -> int:
    with p.sessions() as s:
        return s.scalar(select(func.count()).select_from(Event).where(Event.application_id == app_id))


def _titles(p, app_id: int) -> dict[str, str]:
    """The pack's titles this application's reasons quote: its stages and the acceptance table."""
    with p.sessions() as s:
        pinned = load_pinned(s, s.get(Application, app_id).versions)
        stages = pinned.workflow["stages"]
        return {"table": pinned.table(stages[STAGE]["table"])["title"], "here": stages[STAGE]["title"]}


def _marked_fail(p) -> dict[str, Any]:
    app_id = desk_support.create(p, desk_support.MZ, today=TODAY)
    table = desk_support.table_of(p, app_id, STAGE)
    na = desk_support.not_applicable(p, app_id, STAGE)
    with p.sessions.begin() as s:
        app = s.get(Application, app_id)
        rows = {str(r["no"]): {"criteria": ["na" if str(r["no"]) in na else "pass"] * len(r["criteria"])}
                for r in table["rows"]}
        first = next(k for k in rows if k not in na)
        rows[first] = {"criteria": ["fail"] * len(rows[first]["criteria"]), "note": "缺少材料"}
        clerk = s.scalar(select(Account).where(Account.username == CLERK))
        record_marking(s, app, STAGE, load_pinned(s, app.versions).workflow["stages"][STAGE]["table"],
                       {"rows": rows}, clerk, load_pinned(s, app.versions), not_applicable=na)
    return {"app_id": app_id}


def _unmarked(p) -> dict[str, Any]:
    return {"app_id": desk_support.create(p, desk_support.MZ, today=TODAY)}


@dataclass(frozen=True)
class Scenario:
    id: str
    setup: Callable[[Any], dict[str, Any]]
    run: Callable[[Any, Any, dict[str, Any]], Any]
    #: language → titles → what every channel answers
    expected: Callable[[str, dict[str, str]], Any]


def _why(stage: str, action: str):
    return lambda ch, p, ctx: ch.offered(CLERK, ctx["app_id"])[(stage, action)]


def _act(stage: str, action: str):
    def run(ch, p, ctx):
        before = _events(p, ctx["app_id"])
        got = ch.act(CLERK, ctx["app_id"], stage, action, version=_version(p, ctx["app_id"]), note="理由")
        assert _events(p, ctx["app_id"]) == before  # refused: nothing recorded
        return Outcome(got.ok, got.code, got.message, got.fields)
    return run


NOT_MARKED = {"zh": "尚未填写本环节的审查表《{table}》",
              "en": "The review table of this stage, “{table}”, has not been filled in yet."}
MARKED_FAIL = {"zh": "审查表结论为“不通过”，此操作要求“通过”",
               "en": "The review table's outcome is “Fail”; this action needs “Pass”."}
NOT_HERE = {"zh": "申请当前不在此环节（当前环节：{here}）",
            "en": "The application is not at this stage (it is now at: {here})."}

SCENARIOS = [
    Scenario("an unmarked application: accepting waits for the table, which the reason names",
             _unmarked, _why(STAGE, "accept"), lambda lang, t: NOT_MARKED[lang].format(**t)),
    Scenario("accepting it anyway: guard_not_met with the same reason",
             _unmarked, _act(STAGE, "accept"),
             lambda lang, t: Outcome(False, "guard_not_met", NOT_MARKED[lang].format(**t))),
    Scenario("a table marked 不通过: accepting needs 通过",
             _marked_fail, _why(STAGE, "accept"), lambda lang, t: MARKED_FAIL[lang]),
    Scenario("a table marked 不通过, accepting anyway: guard_not_met",
             _marked_fail, _act(STAGE, "accept"), lambda lang, t: Outcome(False, "guard_not_met", MARKED_FAIL[lang])),
    Scenario("not accepting an unmarked application needs no table",
             _unmarked, _why(STAGE, "reject"), lambda lang, t: None),
    Scenario("acting at a stage the application is not at: not_available naming where it is",
             _unmarked, _act("street_review", "approve"),
             lambda lang, t: Outcome(False, "not_available", NOT_HERE[lang].format(**t))),
]


@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize("name", CHANNELS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_engine_reasons(api, scenario: Scenario, name: str, language: str):
    p = api.p
    ctx = scenario.setup(p)
    got = scenario.run(channel(name, api, language), p, ctx)
    assert got == scenario.expected(language, _titles(p, ctx["app_id"]))
