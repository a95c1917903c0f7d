"""Webhooks: enqueued in the transaction of the history event, signed, verified by a local receiver
(a wrong secret is refused by it), retried on non-2xx and timeouts, logged; the admin page and the CLI."""

from __future__ import annotations

import pytest
from receiver import Receiver
from sqlalchemy import select

from formflow.db.models import (
    Account,
    Application,
    Event,
    Household,
    HouseholdEvent,
    OutboxMessage,
    WebhookDelivery,
    WebhookSubscription,
)
from formflow.webhooks import subscriptions as subs
from formflow.webhooks.delivery import WebhookFailed, deliver_webhook
from support import make_web_app

PACK = "meizhou-meijiang"
SECRET = "partner-shared-secret-0123456789"


@pytest.fixture
def receiver():
    r = Receiver(SECRET)
    yield r
    r.stop()


@pytest.fixture
def services(platform_db):
    return make_web_app(platform_db).extensions["formflow.services"]


def _subscribe(services, url: str, *, kinds="*", secret=SECRET, pack=PACK) -> int:
    with services.sessions.begin() as session:
        made = subs.add(session, pack=pack, known_packs=list(services.packs.packs), url=url, kinds=kinds,
                        secret=secret)
        return made.subscription.id


def _application(session, pack=PACK) -> Application:
    applicant = session.scalars(select(Account).order_by(Account.id)).first()
    app = Application(pack=pack, matter="public-rental-housing", applicant_id=applicant.id, number="GZF-T-0001",
                      status="submitted", data={"members": {"applicant": {"name": "刘䶮", "id_number": "X"}}},
                      versions={})
    session.add(app)
    session.flush()
    return app


def _event(services, action="submit", *, note="私人备注 13912345678", rollback=False) -> int:
    session = services.sessions()
    try:
        with session.begin():
            app = _application(session)
            session.add(Event(application_id=app.id, action=action, from_stage=None, to_stage="community",
                              note=note, details={}))
            session.flush()
            if rollback:
                raise RuntimeError("the change failed")
            return app.id
    finally:
        session.close()


def _messages(services) -> list[OutboxMessage]:
    with services.sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "webhook")
                                    .order_by(OutboxMessage.id)))


def _run(services, key: str) -> None:
    with services.sessions() as session, session.begin():
        message = session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
        deliver_webhook(session, message, services)


def _deliveries(services) -> list[WebhookDelivery]:
    with services.sessions() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_a_history_event_is_delivered_signed_without_personal_data(services, receiver):
    _subscribe(services, receiver.url)
    app_id = _event(services)
    [message] = _messages(services)
    assert message.application_id == app_id and message.pack == PACK
    _run(services, message.key)
    [got] = receiver.accepted
    body = got["body"]
    assert got["event"] == "submit" and receiver.refused == 0
    assert body["application"] == {"id": app_id, "number": "GZF-T-0001"}
    assert (body["pack"], body["matter"], body["from_stage"], body["to_stage"]) == (
        PACK, "public-rental-housing", None, "community")
    assert "刘䶮" not in str(body) and "13912345678" not in str(body) and "私人备注" not in str(body)
    [delivery] = _deliveries(services)
    assert (delivery.status_code, delivery.attempts, delivery.error) == (204, 1, None)


def test_a_rolled_back_change_enqueues_nothing(services, receiver):
    _subscribe(services, receiver.url)
    with pytest.raises(RuntimeError):
        _event(services, rollback=True)
    assert _messages(services) == []
    _event(services)  # positive control
    assert len(_messages(services)) == 1


def test_a_wrong_secret_is_refused_by_the_receiver_and_retried_until_it_is_right(services, receiver):
    sub_id = _subscribe(services, receiver.url, secret="not-what-the-partner-has-00")
    _event(services)
    [message] = _messages(services)
    with pytest.raises(WebhookFailed):
        _run(services, message.key)
    assert receiver.refused == 1 and receiver.accepted == []
    with services.sessions.begin() as session:
        session.get(WebhookSubscription, sub_id).secret = SECRET
    _run(services, message.key)
    assert len(receiver.accepted) == 1
    assert [(d.status_code, d.attempts) for d in _deliveries(services)] == [(401, 1), (204, 2)]


def test_a_server_error_or_a_timeout_raises_for_the_outbox_backoff(services, receiver, monkeypatch):
    _subscribe(services, receiver.url)
    _event(services)
    [message] = _messages(services)
    receiver.status = 503
    with pytest.raises(WebhookFailed):
        _run(services, message.key)
    receiver.status, receiver.delay = 204, 1.5
    monkeypatch.setenv("FORMFLOW_WEBHOOK_TIMEOUT", "0.3")
    with pytest.raises(WebhookFailed):
        _run(services, message.key)
    failed = _deliveries(services)
    assert [d.status_code for d in failed] == [503, None] and failed[1].error


def test_only_active_subscriptions_of_the_pack_wanting_the_kind_get_messages(services, receiver):
    wanted = _subscribe(services, receiver.url, kinds="submit, approve")
    _subscribe(services, receiver.url, kinds="approve")
    _subscribe(services, receiver.url, pack="jiangxi")
    off = _subscribe(services, receiver.url)
    with services.sessions.begin() as session:
        subs.set_active(session, off, False)
    _event(services, "submit")
    assert [m.payload["subscription_id"] for m in _messages(services)] == [wanted]


def test_household_events_are_delivered_as_household_kinds(services, receiver):
    _subscribe(services, receiver.url, kinds="household.offer")
    with services.sessions.begin() as session:
        app = _application(session)
        household = Household(code="MJ-H-0001", pack=PACK, matter=app.matter, application_id=app.id,
                              applicant_id=app.applicant_id, mode="rent", kind="flat", status="waiting",
                              name="刘䶮", id_masked="4414**********0011", facts={},
                              approved_on=services.today())
        session.add(household)
        session.flush()
        session.add(HouseholdEvent(household_id=household.id, action="offer", from_status="waiting",
                                   to_status="offered", details={}))
    [message] = _messages(services)
    _run(services, message.key)
    [got] = receiver.accepted
    assert got["body"]["household"] == {"id": household.id, "code": "MJ-H-0001"}
    assert got["body"]["to_status"] == "offered" and "刘䶮" not in str(got["body"])


def test_an_http_address_to_another_machine_is_refused_outside_a_demo(services):
    with services.sessions.begin() as session:
        with pytest.raises(subs.Refusal) as caught:
            subs.add(session, pack=PACK, known_packs=[PACK], url="http://partner.example.cn/hook", kinds="*")
        assert caught.value.fields[0].pointer == "/url"
        made = subs.add(session, pack=PACK, known_packs=[PACK], url="https://partner.example.cn/hook", kinds="*")
        assert made.subscription.event_kinds == ["*"] and len(made.secret) >= 32
