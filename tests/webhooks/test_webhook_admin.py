"""The configurator's webhook page (role check, CSRF, scoped to the configurator's pack) and `formflow webhooks`."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from receiver import Receiver
from sqlalchemy import select

from formflow.cli import main
from formflow.db.models import WebhookDelivery, WebhookSubscription
from support import TEST_KEYS

PAGE = "/admin/meizhou-meijiang/webhooks"


@pytest.fixture
def receiver():
    r = Receiver("")
    yield r
    r.stop()


@pytest.fixture
def configurator(web):
    assert web.login("mj-configurator").status_code == 302
    return web


def _add(web, url: str, events: str = "submit"):
    return web.post(PAGE, {"url": url, "events": events, "title": "住房保障信息系统"}, token_from=PAGE)


def test_a_configurator_adds_a_subscription_sees_its_secret_once_and_sends_a_test_event(configurator, receiver):
    page = _add(configurator, receiver.url).get_data(as_text=True)
    secret = re.search(r'id="new-secret">[^<]*<code>([^<]+)</code>', page).group(1)
    receiver.secret = secret
    assert secret not in configurator.get(PAGE).get_data(as_text=True)  # shown once only
    with configurator.app.extensions["formflow.services"].sessions() as session:
        [row] = session.scalars(select(WebhookSubscription)).all()
        assert (row.pack, row.event_kinds, row.url, row.secret) == ("meizhou-meijiang", ["submit"], receiver.url,
                                                                    secret)
    response = configurator.post(f"{PAGE}/{row.id}/test", token_from=PAGE)
    assert response.status_code == 302
    [got] = receiver.accepted
    assert got["event"] == "test" and got["body"]["pack"] == "meizhou-meijiang"
    page = configurator.get(PAGE).get_data(as_text=True)
    assert "204" in page and "<code>test</code>" in page


def test_a_wrong_secret_at_the_receiver_shows_as_not_delivered(configurator, receiver):
    _add(configurator, receiver.url)
    receiver.secret = "something-else"
    with configurator.app.extensions["formflow.services"].sessions() as session:
        row_id = session.scalar(select(WebhookSubscription.id))
    configurator.post(f"{PAGE}/{row_id}/test", token_from=PAGE)
    assert receiver.refused == 1
    with configurator.app.extensions["formflow.services"].sessions() as session:
        assert session.scalar(select(WebhookDelivery.status_code)) == 401
    assert "401" in configurator.get(PAGE).get_data(as_text=True)


def test_turning_a_subscription_off(configurator, receiver):
    _add(configurator, receiver.url)
    with configurator.app.extensions["formflow.services"].sessions() as session:
        row_id = session.scalar(select(WebhookSubscription.id))
    assert configurator.post(f"{PAGE}/{row_id}/active", {"active": "0"}, token_from=PAGE).status_code == 302
    with configurator.app.extensions["formflow.services"].sessions() as session:
        assert session.get(WebhookSubscription, row_id).active is False


def test_a_bad_address_is_refused_on_the_form(configurator):
    response = _add(configurator, "ftp://partner.example.cn/")
    assert response.status_code == 400
    with configurator.app.extensions["formflow.services"].sessions() as session:
        assert session.scalar(select(WebhookSubscription.id)) is None


def test_without_the_csrf_token_nothing_is_added(configurator, receiver):
    response = configurator.client.post(PAGE, data={"url": receiver.url, "events": ""})
    assert response.status_code == 400
    with configurator.app.extensions["formflow.services"].sessions() as session:
        assert session.scalar(select(WebhookSubscription.id)) is None


def test_the_page_is_404_for_others_and_for_another_packs_configurator(web):
    assert web.login("mj-community").status_code == 302
    assert web.get(PAGE).status_code == 404
    web.client.get("/auth/logout")
    assert web.login("jx-configurator").status_code == 302
    assert web.get("/admin/jiangxi/webhooks").status_code == 200  # positive control: its own pack
    assert web.get(PAGE).status_code == 404
    response = web.post(PAGE, {"url": "https://partner.example.cn/", "events": ""},
                        token_from="/admin/jiangxi/webhooks")
    assert response.status_code == 404


def test_the_cli_adds_lists_tests_and_removes(sqlite_platform, receiver, monkeypatch):
    monkeypatch.setenv("FORMFLOW_DATABASE_URL", sqlite_platform.url)
    monkeypatch.setenv("FORMFLOW_DATA_KEYS", TEST_KEYS)
    monkeypatch.setenv("FORMFLOW_INSTANCE", str(sqlite_platform.instance))
    runner = CliRunner()
    added = runner.invoke(main, ["webhooks", "add", "--pack", "meizhou-meijiang", "--url", receiver.url,
                                 "--events", "submit,approve"])
    assert added.exit_code == 0, added.output
    sub_id, secret = re.search(r"(\d+).*?([A-Za-z0-9_-]{40,})", added.output).groups()
    listed = runner.invoke(main, ["webhooks", "list"])
    assert receiver.url in listed.output and "approve,submit" in listed.output
    receiver.secret = "wrong-one"
    assert runner.invoke(main, ["webhooks", "test", sub_id]).exit_code == 1
    receiver.secret = secret
    tested = runner.invoke(main, ["webhooks", "test", sub_id])
    assert tested.exit_code == 0 and "204" in tested.output and len(receiver.accepted) == 1
    assert runner.invoke(main, ["webhooks", "remove", sub_id]).exit_code == 0
    assert receiver.url not in runner.invoke(main, ["webhooks", "list"]).output
    refused = runner.invoke(main, ["webhooks", "add", "--pack", "nowhere", "--url", receiver.url])
    assert refused.exit_code == 2
