"""Each message kind is written in the transaction of the change it tells of; a rollback leaves nothing."""

from __future__ import annotations

from datetime import date

import pytest
from notes import kinds, messages, sms
from wf_support import CITIZEN, HAPPY, JX, MZ

from formflow.db.models import Message, OutboxMessage
from formflow.workflow import engine

DAY = date(2026, 3, 2)  # a Monday


def test_the_happy_path_tells_the_citizen_each_step(flow):
    app_id = flow.create(MZ, today=DAY)
    assert kinds(flow.p, CITIZEN[MZ]) == []  # submitting is not one of the pack's kinds
    day = DAY
    for stage, action, user, mark, note in HAPPY[MZ]:
        if action is None:
            from datetime import timedelta

            day = flow.app(app_id).deadline + timedelta(days=1)
            assert flow.tick(day).expired == [app_id]
            continue
        flow.act(app_id, stage, action, user, today=day, note=note, mark=mark)
    assert kinds(flow.p, CITIZEN[MZ]) == ["accepted", "public_notice_started", "public_notice_ended", "approved"]
    first, *_rest, last = messages(flow.p, CITIZEN[MZ])
    number = flow.app(app_id).number
    assert first.content["title"] == "申请已受理"
    assert first.content["body"] == (f"陈**，您的梅州城区公共租赁住房申请（{number}）已受理，现进入街道初审。"
                                     "可在“我的申请”查看进度。")
    assert first.link == f"/portal/applications/{app_id}" and first.read_at is None
    assert "符合住房保障条件" in last.content["body"]
    # the kinds the pack sends by SMS are in the outbox, keyed by message id, with no mobile number
    outbox = sms(flow.p)
    by_kind = {m.payload["message_kind"]: m for m in outbox}
    assert set(by_kind) == {"accepted", "public_notice_started", "approved"}  # public_notice_ended: in-app only
    accepted = by_kind["accepted"]
    assert accepted.key == f"sms:{first.id}" and accepted.application_id == app_id and accepted.pack == MZ
    assert accepted.payload["account_id"] == first.account_id
    assert accepted.payload["text"] == first.content["body"]
    assert accepted.payload["params"]["number"] == number
    assert "mobile" not in accepted.payload and "138" not in str(accepted.payload)


def test_refusals_tell_not_accepted_and_rejected(flow):
    one = flow.create(MZ, today=DAY)
    flow.act(one, "community_acceptance", "reject", "mj-community", today=DAY, note="不属于本社区", mark=True)
    two = flow.create(MZ, today=DAY)
    flow.act(two, "community_acceptance", "accept", "mj-community", today=DAY, mark=True)
    flow.act(two, "street_review", "reject", "mj-street", today=DAY, note="收入超标", mark=True)
    assert kinds(flow.p, CITIZEN[MZ]) == ["not_accepted", "accepted", "rejected"]
    assert [m.application_id for m in messages(flow.p, CITIZEN[MZ])] == [one, two, two]


def test_correction_requested_names_its_deadline_and_the_answer_is_acknowledged(flow):
    app_id = flow.create(MZ, today=DAY)
    flow.act(app_id, "community_acceptance", "request_correction", "mj-community", today=date(2026, 3, 3),
             note="身份证复印件未加盖验证章", materials=["id_card"])
    with flow.p.sessions.begin() as s:
        app = s.get(type(flow.app(app_id)), app_id)
        engine.answer_correction(s, app_id, flow.account(CITIZEN[MZ]), expected_version=app.version,
                                 note="已补交", calendar=flow.calendar, today=date(2026, 3, 9))
    requested, answered = messages(flow.p, CITIZEN[MZ])
    assert (requested.kind, answered.kind) == ("correction_requested", "correction_answered")
    # 10 working days from Tuesday 3 March 2026
    assert "请于2026-03-17前补正" in requested.content["body"]
    assert [m.payload["message_kind"] for m in sms(flow.p)] == ["correction_requested"]  # the answer: in-app only


def test_parallel_branches_tell_once(flow):
    app_id = flow.create(JX, today=DAY)
    flow.act(app_id, "acceptance", "accept", "jx-street-clerk", today=DAY, mark=True)
    assert kinds(flow.p, CITIZEN[JX]) == ["accepted"]
    assert messages(flow.p, CITIZEN[JX])[0].content["body"].startswith("李*，")


def test_a_rolled_back_change_sends_nothing(flow):
    app_id = flow.create(MZ, today=DAY)
    flow.mark(app_id, "community_acceptance", "mj-community")
    before = flow.app(app_id).version

    class Boom(Exception):
        pass

    with pytest.raises(Boom), flow.p.sessions.begin() as s:
        engine.perform(s, app_id, stage="community_acceptance", action="accept", actor=flow.account("mj-community"),
                       expected_version=before, calendar=flow.calendar, today=DAY, storage=flow.p.storage,
                       renderers=flow.renderers, keys=flow.p.keys)
        s.flush()
        assert s.query(Message).count() == 1  # written in this transaction, not yet committed
        assert s.query(OutboxMessage).filter_by(kind="sms").count() == 1
        raise Boom
    assert flow.count(Message) == 0 and flow.count(OutboxMessage) == 0 and flow.app(app_id).version == before
    # positive control: the same change committed writes both
    flow.act(app_id, "community_acceptance", "accept", "mj-community", today=DAY)
    assert flow.count(Message) == 1 and flow.count(OutboxMessage, kind="sms") == 1


def test_without_installed_kinds_nothing_is_written(sqlite_platform, calendar):
    from wf_support import Flow

    from formflow.notifications import registry

    registry.uninstall()
    f = Flow(sqlite_platform, calendar)
    app_id = f.create(MZ, today=DAY)
    f.act(app_id, "community_acceptance", "accept", "mj-community", today=DAY, mark=True)
    assert f.count(Message) == 0
