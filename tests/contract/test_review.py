"""Reviewing gives the same answer on every channel that offers it (desk and API).

ONE table of scenarios, each run on each channel: the same rows in the same
order (overdue first) with the same titles, local times and masked ID numbers;
the same refusals (code and message, fields); the same stored records.
Defect 4a: 「全部符合」 must never record 符合 on a row about a material the
application neither requires nor provided — such rows are 不适用.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, update

from formflow.db.models import AccessRecord, Application, Event, Office
from formflow.packs.versions import load_pinned
from formflow.reviews.tables import latest_marking
from formflow.text.formatting import local_time

from .review_channels import CHANNELS, Api, Outcome, QueueLine, channel, desk_support

MZ, create, sample_data, table_of = (desk_support.MZ, desk_support.create, desk_support.sample_data,
                                     desk_support.table_of)

TODAY = date(2026, 3, 2)
STAGE = "community_acceptance"
CLERK = "mj-community"
#: Rows of the acceptance table about materials a 低收入 applicant need not submit (低保证, 劳动合同, 社保, 学历).
NOT_FOR_LOW_INCOME = ("6", "7", "8", "9")
#: The engine's reason for not accepting an unmarked application (the table's title is the pack's).
GUARD_MESSAGE = "尚未填写本环节的审查表《梅州城区公共租赁住房申请 受理审核量化表》"


@pytest.fixture
def api(sqlite_platform) -> Api:
    return Api(sqlite_platform, TODAY)


def _table(p, app_id: int) -> dict[str, Any]:
    return table_of(p, app_id, STAGE)


def _all(table: dict[str, Any], verdict: str = "pass", *, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"rows": {str(r["no"]): {"criteria": [verdict] * len(r["criteria"])} for r in table["rows"]
                     if str(r["no"]) not in leave_out}}


def _version(p, app_id: int) -> int:
    with p.sessions() as s:
        return s.get(Application, app_id).version


def _events(p, app_id: int, action: str) -> int:
    with p.sessions() as s:
        return s.scalar(select(func.count()).select_from(Event).where(
            Event.application_id == app_id, Event.action == action))


def _low_income(p) -> int:
    return create(p, MZ, today=TODAY, category="low-income", channel="community", data=sample_data("low-income"))


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    id: str
    #: Makes the applications; returns what `run`, `expected` and `check` need.
    setup: Callable[[Any], dict[str, Any]]
    run: Callable[[Any, dict[str, Any]], Any]
    expected: Callable[[Any, dict[str, Any]], Any]
    #: Stored data after the run (the same for every channel).
    check: Callable[[Any, dict[str, Any]], None] | None = None


def _queue_setup(p) -> dict[str, Any]:
    later = create(p, MZ, today=TODAY, category="low-income", channel="community")
    overdue = create(p, MZ, today=TODAY, category="new-employee", channel="hall")
    sooner = create(p, MZ, today=TODAY, category="low-income")
    create(p, MZ, today=TODAY, office="441402002001")  # another community: not this clerk's
    with p.sessions.begin() as s:
        s.execute(update(Application).where(Application.id == overdue).values(overdue=True,
                                                                              deadline=date(2026, 2, 20)))
        s.execute(update(Application).where(Application.id == later).values(deadline=date(2026, 3, 20)))
        s.execute(update(Application).where(Application.id == sooner).values(deadline=date(2026, 3, 5)))
    return {"order": [overdue, sooner, later]}


def _queue_expected(p, ctx) -> list[QueueLine]:
    lines = []
    with p.sessions() as s:
        for app_id in ctx["order"]:
            app = s.get(Application, app_id)
            pinned = load_pinned(s, app.versions)
            lines.append(QueueLine(
                id=app.id, number=app.number, applicant="陈志强", id_masked="4414**********0314",
                category=pinned.category_title(app.category), channel=pinned.channel_title(app.channel),
                stages="社区受理", office=s.get(Office, app.office_id).name, submitted=local_time(app.submitted_at),
                deadline=app.deadline.isoformat(), overdue=bool(app.overdue),
            ))
    return lines


def _no_access_record(p, ctx) -> None:
    with p.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AccessRecord)) == 0


def _na_fields(p, app_id: int) -> dict[str, str]:
    rows = {str(r["no"]): r for r in _table(p, app_id)["rows"]}
    return {f"/rows/{no}/criteria/{i}": f"本申请无须提交“{rows[no]['content']}”，此行只能标为“不适用”"
            for no in NOT_FOR_LOW_INCOME for i in range(len(rows[no]["criteria"]))}


def _nothing_marked(p, ctx) -> None:
    assert _events(p, ctx["app"], "mark") == 0


def _marked_not_applicable(p, ctx) -> None:
    with p.sessions() as s:
        saved = latest_marking(s, ctx["app"], STAGE, "acceptance")
        assert saved is not None and saved.outcome == "pass"
        for no in NOT_FOR_LOW_INCOME:
            assert set(saved.marking["rows"][no]["criteria"]) == {"na"}, no
        assert set(saved.marking["rows"]["1"]["criteria"]) == {"pass"}


def _marked_app(p) -> dict[str, Any]:
    """A 低收入 application whose acceptance table is marked (applicable rows 符合)."""
    app_id = _low_income(p)
    ctx = {"app": app_id}
    with p.sessions.begin() as s:
        from formflow.db.models import Account
        from formflow.reviews.tables import normalise_marking, record_marking

        app = s.get(Application, app_id)
        pinned = load_pinned(s, app.versions)
        na = desk_support.not_applicable(p, app_id, STAGE)
        marking = normalise_marking(_table(p, app_id), _all(_table(p, app_id), leave_out=tuple(na)), na)
        record_marking(s, app, STAGE, "acceptance", marking, s.scalar(select(Account).where(
            Account.username == CLERK)), pinned, not_applicable=na)
    return ctx


def _stale_message(stage_titles: str) -> str:
    return f"该申请已被他人处理，当前环节：{stage_titles}，请刷新后重试"


SCENARIOS = [
    Scenario(
        "queue: same rows, overdue first, titles, local times, masked ID numbers, no access record",
        _queue_setup,
        lambda ch, ctx: ch.queue(CLERK),
        _queue_expected,
        _no_access_record,
    ),
    Scenario(
        "queue filtered by category and overdue",
        _queue_setup,
        lambda ch, ctx: [line.id for line in ch.queue(CLERK, category="low-income", overdue="0")],
        lambda p, ctx: ctx["order"][1:],
    ),
    Scenario(
        "全部符合 on every row, also rows of materials not required: refused, nothing recorded (4a)",
        lambda p: {"app": _low_income(p)},
        lambda ch, ctx: ch.mark(CLERK, ctx["app"], STAGE, _all(_table(ch.platform, ctx["app"]))),
        lambda p, ctx: Outcome(False, "marking_invalid",
                               f"审查表有 {len(_na_fields(p, ctx['app']))} 处需要补充，请检查标红的项目",
                               _na_fields(p, ctx["app"]), data={"status": None}),
        _nothing_marked,
    ),
    Scenario(
        "rows of materials not required left blank are recorded 不适用 (4a)",
        lambda p: {"app": _low_income(p)},
        lambda ch, ctx: ch.mark(CLERK, ctx["app"], STAGE,
                                _all(_table(ch.platform, ctx["app"]), leave_out=NOT_FOR_LOW_INCOME)),
        lambda p, ctx: Outcome(True),
        _marked_not_applicable,
    ),
    Scenario(
        "a criterion left without a verdict",
        lambda p: {"app": create(p, MZ, today=TODAY)},
        lambda ch, ctx: ch.mark(CLERK, ctx["app"], STAGE, {"rows": {
            **_all(_table(ch.platform, ctx["app"]))["rows"], "3": {"criteria": [None, "pass", "pass"]}}}),
        lambda p, ctx: Outcome(False, "marking_invalid", "审查表有 1 处需要补充，请检查标红的项目",
                               {"/rows/3/criteria/0": "请选择：符合、不符合或不适用"}, data={"status": None}),
        _nothing_marked,
    ),
    Scenario(
        "不符合 without its note",
        lambda p: {"app": create(p, MZ, today=TODAY)},
        lambda ch, ctx: ch.mark(CLERK, ctx["app"], STAGE, {"rows": {
            **_all(_table(ch.platform, ctx["app"]))["rows"], "2": {"criteria": ["pass", "fail", "pass"]}}}),
        lambda p, ctx: Outcome(False, "marking_invalid", "审查表有 1 处需要补充，请检查标红的项目",
                               {"/rows/2/note": "选择“不符合”时须填写不符合的说明"}, data={"status": None}),
        _nothing_marked,
    ),
    Scenario(
        "accept before the table is marked: the guard says why",
        lambda p: {"app": create(p, MZ, today=TODAY)},
        lambda ch, ctx: ch.act(CLERK, ctx["app"], STAGE, "accept", version=_version(ch.platform, ctx["app"])),
        lambda p, ctx: Outcome(False, "guard_not_met", GUARD_MESSAGE, data={"status": 409}),
        lambda p, ctx: None if _events(p, ctx["app"], "accept") == 0 else pytest.fail("accepted"),
    ),
    Scenario(
        "不予受理 without a reason",
        lambda p: {"app": create(p, MZ, today=TODAY)},
        lambda ch, ctx: ch.act(CLERK, ctx["app"], STAGE, "reject", version=_version(ch.platform, ctx["app"])),
        lambda p, ctx: Outcome(False, "reason_required", "请填写理由", {"/note": "请填写理由"},
                               data={"status": None}),
        lambda p, ctx: None if _events(p, ctx["app"], "reject") == 0 else pytest.fail("rejected"),
    ),
    Scenario(
        "a stale version: someone else acted first",
        _marked_app,
        lambda ch, ctx: ch.act(CLERK, ctx["app"], STAGE, "accept", version=_version(ch.platform, ctx["app"]) - 1),
        lambda p, ctx: Outcome(False, "stale", _stale_message("社区受理"), data={"status": 409}),
    ),
    Scenario(
        "another office's application is not found",
        lambda p: {"app": create(p, MZ, today=TODAY, office="441402002001")},
        lambda ch, ctx: ch.act(CLERK, ctx["app"], STAGE, "accept", version=_version(ch.platform, ctx["app"])),
        lambda p, ctx: Outcome(False, "not_found", "申请不存在或不在您的办理范围内", data={"status": 404}),
    ),
    Scenario(
        "accept a marked application: the same stage titles after the move",
        _marked_app,
        lambda ch, ctx: ch.act(CLERK, ctx["app"], STAGE, "accept", version=_version(ch.platform, ctx["app"])),
        lambda p, ctx: Outcome(True, data="街道初审"),
        lambda p, ctx: None if _events(p, ctx["app"], "accept") == 1 else pytest.fail("not accepted once"),
    ),
]


def _comparable(outcome: Any) -> Any:
    """Statuses differ by channel convention for re-rendered forms (desk 400, API 422): those compare as None."""
    if isinstance(outcome, Outcome) and outcome.data and isinstance(outcome.data, dict):
        status = outcome.data.get("status")
        return Outcome(outcome.ok, outcome.code, outcome.message, outcome.fields,
                       data={"status": status if status in (404, 409) else None})
    return outcome


@pytest.mark.parametrize("name", CHANNELS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_review_contract(api, scenario: Scenario, name: str):
    p = api.p
    ch = channel(name, api)
    ctx = scenario.setup(p)
    got = scenario.run(ch, ctx)
    assert _comparable(got) == scenario.expected(p, ctx)
    if scenario.check is not None:
        scenario.check(p, ctx)


def test_the_queue_reads_the_same_on_both_channels(api):
    """Beyond the table: one run, both channels, compared with each other."""
    _queue_setup(api.p)
    desk, rest = channel("desk", api), channel("api", api)
    assert desk.queue(CLERK) == rest.queue(CLERK)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", desk.queue(CLERK)[0].submitted)


CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def test_the_desk_queue_reads_in_english(api):
    """Accept-Language: en: every word of the queue is English but the pack's own texts (titles, names)."""
    p = api.p
    _queue_setup(p)
    client = channel("desk", api)._client(CLERK)
    page = client.get("/desk/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    # the whole page: layout and header too; the language switch's 中文 is marked lang="zh-CN"
    content = re.sub(r'<(\w+)[^>]*\blang="zh-CN"[^>]*>.*?</\1>', " ", page.split("<body", 1)[1], flags=re.S)
    content = re.sub(r"<script\b.*?</script>", " ", content, flags=re.S)
    pack_texts = {line.applicant for line in channel("api", api).queue(CLERK)}
    with p.sessions() as s:
        for app in s.scalars(select(Application)):
            pinned = load_pinned(s, app.versions)
            pack_texts |= {pinned.category_title(app.category), pinned.channel_title(app.channel)}
            pack_texts |= {st["title"] for st in pinned.workflow["stages"].values()}
            pack_texts |= {cat.get("title", "") for cat in (pinned.materials.get("categories") or {}).values()}
            pack_texts |= {str(ch.get("title", "")) for ch in pinned.manifest.get("channels") or []}
        pack_texts |= {o.name for o in s.scalars(select(Office))}
    visible = re.sub(r"<[^>]+>", " ", content)
    for text in sorted(pack_texts - {""}, key=len, reverse=True):
        visible = visible.replace(text, " ")
    assert not CJK.findall(visible), visible
    for words in ("Applications to handle", "Applicant category", "Current stage", "Overdue", "Deadline",
                  ">To handle</a>"):
        assert words in content
    chinese = client.get("/desk/").get_data(as_text=True)
    assert "<h1>待办申请</h1>" in chinese and "已超期" in chinese and 'id="nav-queue">待办</a>' in chinese


def test_the_desk_asks_to_confirm_what_the_use_case_says_cannot_be_undone(api):
    p = api.p
    app_id = create(p, MZ, today=TODAY)
    desk = channel("desk", api)
    client = desk._client(CLERK)
    offered = {(a["stage"], a["action"]): a for a in channel("api", api)._client(CLERK).get(
        f"/review/applications/{app_id}/actions").json["actions"]}
    assert offered[(STAGE, "reject")]["targets"] == ["not_accepted"]
    data = {"stage": STAGE, "action": "reject", "expected_version": str(_version(p, app_id)), "note": "材料不齐"}
    page = client.post(f"/desk/applications/{app_id}/act", data, token_from="/desk/")
    html_text = page.get_data(as_text=True)
    assert page.status_code == 200 and "请确认：不予受理" in html_text and "4414**********0314" in html_text
    assert "此操作将使申请进入“不予受理”，办结后不能撤销。" in html_text
    assert _events(p, app_id, "reject") == 0
    english = client.post(f"/desk/applications/{app_id}/act", data, token_from="/desk/",
                          headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Please confirm: 不予受理" in english and "cannot be undone" in english
    done = client.post(f"/desk/applications/{app_id}/act", {**data, "confirmed": "1"}, token_from="/desk/")
    assert done.status_code == 302 and _events(p, app_id, "reject") == 1
