"""Message kinds are pack configuration: `formflow check` reports what is wrong; the pack's wording is what is sent."""

from __future__ import annotations

from datetime import date

import yaml
from click.testing import CliRunner
from notes import messages
from wf_support import CITIZEN, MZ, Flow

from formflow.packs import load_packs

MESSAGES = "schemas/meizhou-meijiang/public-rental-housing/messages.yaml"
JX_MESSAGES = "schemas/jiangxi/public-rental-housing/messages.yaml"


def _edit(root, rel: str, change) -> None:
    path = root / rel
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


def _problems(root) -> str:
    return "\n".join(str(p) for p in load_packs(root).problems)


def test_the_shipped_packs_have_message_kinds_and_no_problems(config_root):
    packs = load_packs(config_root)
    assert not packs.problems
    mz = packs.packs[MZ].matters["public-rental-housing"].messages.content["kinds"]
    assert {"accepted", "not_accepted", "correction_requested", "correction_due", "correction_answered",
            "public_notice_started", "public_notice_ended", "approved", "rejected", "waiting_list",
            "lottery_result", "subsidy_stopped"} <= set(mz)
    jx = packs.packs["jiangxi"].matters["public-rental-housing"].messages.content["kinds"]
    assert {"accepted", "correction_due", "approved", "rejected"} <= set(jx)


def test_broken_message_kinds_are_reported_with_file_and_pointer(config_copy):
    def break_it(doc):
        kinds = doc["kinds"]
        kinds["accepted"]["when"]["actions"] = ["accept", "rubber_stamp"]
        kinds["approved"]["when"]["enters"] = ["granted"]
        kinds["public_notice_ended"]["when"]["leaves"] = ["notice_board"]
        kinds["rejected"]["body"] = "{{ name }}：{{ reason }}"
        kinds["not_accepted"]["title"] = "{{ name "
        kinds["lottery_result"]["when"]["household"] = ["won_the_lottery"]
        kinds["subsidy_stopped"]["channel"] = "wechat"

    _edit(config_copy, MESSAGES, break_it)
    problems = _problems(config_copy)
    for pointer, words in (("/kinds/accepted/when/actions/1", "rubber_stamp"),
                           ("/kinds/approved/when/enters/0", "granted"),
                           ("/kinds/public_notice_ended/when/leaves/0", "notice_board"),
                           ("/kinds/rejected/body", "reason"),
                           ("/kinds/not_accepted/title", "模板无法编译"),
                           ("/kinds/lottery_result/when/household/0", "won_the_lottery"),
                           ("/kinds/subsidy_stopped", "channel")):
        line = next((x for x in problems.splitlines() if x.startswith(f"{MESSAGES}:{pointer}")), "")
        assert words in line, (pointer, problems)
    # positive control: the untouched pack is clean
    assert JX_MESSAGES not in problems


def test_household_kinds_need_an_allocation_and_reminders_a_deadline(config_copy):
    def break_it(doc):
        doc.pop("correction_deadline")
        doc["kinds"]["waiting_list"] = {"title": "t", "body": "b", "when": {"household": ["entered"]}}

    _edit(config_copy, JX_MESSAGES, break_it)
    (config_copy / "schemas" / "jiangxi" / "public-rental-housing" / "allocation.yaml").unlink()  # no waiting list
    problems = _problems(config_copy)
    assert f"{JX_MESSAGES}:/kinds/correction_due/when/correction_due" in problems
    assert f"{JX_MESSAGES}:/kinds/waiting_list/when: " in problems and "allocation.yaml" in problems


def test_formflow_check_names_the_problem(config_copy, monkeypatch):
    from formflow.cli import main

    _edit(config_copy, MESSAGES, lambda doc: doc["kinds"]["accepted"]["when"].update(actions=["rubber_stamp"]))
    monkeypatch.setenv("FORMFLOW_CONFIG_ROOT", str(config_copy))
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code != 0 and f"{MESSAGES}:/kinds/accepted/when/actions/0" in result.output


def test_changing_the_packs_template_changes_the_words_sent(config_copy, sqlite_platform, calendar, installed):
    def reword(doc):
        doc["kinds"]["accepted"]["title"] = "好消息：已受理"
        doc["kinds"]["accepted"]["body"] = "{{ matter }} {{ number }} 由{{ stage }}办理；{{ name }}请留意。"
        doc["kinds"]["accepted"]["sms"] = False

    _edit(config_copy, MESSAGES, reword)
    packs = load_packs(config_copy)
    assert not packs.problems
    installed(packs)
    flow = Flow(sqlite_platform, calendar)
    app_id = flow.create(MZ, today=date(2026, 3, 2))
    flow.act(app_id, "community_acceptance", "accept", "mj-community", today=date(2026, 3, 2), mark=True)
    (msg,) = messages(flow.p, CITIZEN[MZ])
    number = flow.app(app_id).number
    assert msg.content == {"title": "好消息：已受理",
                           "body": f"梅州城区公共租赁住房申请 {number} 由街道初审办理；陈**请留意。"}
    assert flow.count(type(msg)) == 1
    from notes import sms

    assert sms(flow.p) == []  # the pack now says: no SMS for this kind
