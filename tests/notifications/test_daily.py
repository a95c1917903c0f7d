"""What `formflow tick` adds once a day: the correction deadline reminder and the reviewers' digest."""

from __future__ import annotations

from datetime import date

from notes import kinds, messages, sms
from wf_support import CITIZEN, MZ

from formflow.db.models import Message
from formflow.notifications.daily import daily

DAY = date(2026, 3, 2)  # a Monday


def run(flow, today: date):
    return daily(flow.p.sessions, flow.p.packs, today=today, calendar=lambda _pack: flow.calendar)


def test_the_correction_reminder_comes_two_working_days_before_its_deadline_once(flow):
    app_id = flow.create(MZ, today=DAY)
    flow.act(app_id, "community_acceptance", "request_correction", "mj-community", today=date(2026, 3, 3),
             note="补收入证明")
    # due 2026-03-17 (10 working days from Tuesday 3 March): 3 working days before, nothing yet
    assert run(flow, date(2026, 3, 12)).reminders == []
    assert kinds(flow.p, CITIZEN[MZ]) == ["correction_requested"]
    first = run(flow, date(2026, 3, 13))  # Friday: Monday and Tuesday left
    assert len(first.reminders) == 1
    again = run(flow, date(2026, 3, 13))  # tick twice a day, or on two nodes: told once
    assert again.reminders == [] and run(flow, date(2026, 3, 16)).reminders == []
    reminder = messages(flow.p, CITIZEN[MZ])[-1]
    assert reminder.kind == "correction_due" and reminder.application_id == app_id
    assert "补正期限为2026-03-17" in reminder.content["body"]
    assert [m.payload["message_kind"] for m in sms(flow.p)] == ["correction_requested", "correction_due"]
    assert sms(flow.p)[-1].key == f"sms:{reminder.id}"


def test_an_answered_correction_is_not_reminded(flow):
    from formflow.db.models import Application
    from formflow.workflow import engine

    app_id = flow.create(MZ, today=DAY)
    flow.act(app_id, "community_acceptance", "request_correction", "mj-community", today=date(2026, 3, 3),
             note="补收入证明")
    with flow.p.sessions.begin() as s:
        version = s.get(Application, app_id).version
        engine.answer_correction(s, app_id, flow.account(CITIZEN[MZ]), expected_version=version, note="已补交",
                                 calendar=flow.calendar, today=date(2026, 3, 4))
    assert run(flow, date(2026, 3, 13)).reminders == []


def test_the_digest_tells_each_reviewer_once_a_day_what_is_due(flow):
    app_id = flow.create(MZ, today=DAY)  # community acceptance due Thursday 5 March
    assert run(flow, DAY).digests == []  # due in 3 working days: not yet worth a message
    tue = run(flow, date(2026, 3, 3))
    assert len(tue.digests) == 1 and run(flow, date(2026, 3, 3)).digests == []
    (digest,) = messages(flow.p, "mj-community")
    assert digest.kind == "digest" and digest.link == "/desk/"
    assert digest.content["title"] == "待办提醒：今日到期 0 件，即将到期 1 件，已超期 0 件"
    assert messages(flow.p, "mj-street") == []  # nothing of theirs is due
    thu = run(flow, date(2026, 3, 5))
    assert len(thu.digests) == 1
    latest = messages(flow.p, "mj-community")[-1]
    assert latest.content["title"] == "待办提醒：今日到期 1 件，即将到期 0 件，已超期 0 件"
    flow.tick(date(2026, 3, 6))  # marks it overdue
    run(flow, date(2026, 3, 6))
    assert "已超期 1 件" in messages(flow.p, "mj-community")[-1].content["title"]
    digests = [m for m in sms(flow.p) if m.payload["message_kind"] == "digest"]
    assert len(digests) == 3 and digests[0].payload["params"]["soon"] == "1"
    # positive control on the queue: once accepted, the community clerk has nothing due
    flow.act(app_id, "community_acceptance", "accept", "mj-community", today=date(2026, 3, 9), mark=True)
    before = flow.count(Message, kind="digest")
    run(flow, date(2026, 3, 9))
    assert [m.kind for m in messages(flow.p, "mj-community")].count("digest") == 3
    assert flow.count(Message, kind="digest") >= before  # the street reviewer may now have one


def test_formflow_tick_sends_the_digest_once(sqlite_flow, monkeypatch):
    from click.testing import CliRunner

    from formflow.cli import main

    flow = sqlite_flow
    flow.create(MZ, today=DAY)
    monkeypatch.setenv("FORMFLOW_DATABASE_URL", flow.p.url)
    monkeypatch.setenv("FORMFLOW_CONFIG_ROOT", str(flow.p.root))
    for _ in range(2):  # cron may run it twice: one digest
        result = CliRunner().invoke(main, ["tick", "--today", "2026-03-03"])
        assert result.exit_code == 0, result.output
    assert [m.kind for m in messages(flow.p, "mj-community")] == ["digest"]
    assert messages(flow.p, "mj-street") == []
