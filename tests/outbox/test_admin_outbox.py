"""The outbox admin page: counts, failures with their last error (never the payload), a confirmed retry."""

from __future__ import annotations

from sqlalchemy import select, update

from formflow.db.models import OutboxMessage
from formflow.outbox import enqueue

SECRET = "13812345678"


def _dead_message(p) -> int:
    with p.sessions.begin() as s:
        message = enqueue(s, "test.sms", {"mobile": SECRET, "text": "王芳 您好"}, key="sms:1")
        enqueue(s, "test.sms", {"mobile": "13900000000"}, key="sms:2")
        s.flush()
        message_id = message.id
    with p.sessions.begin() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(
            status="dead", attempts=8, last_error="ConnectionRefusedError: sms gateway unreachable"))
    return message_id


def test_the_admin_sees_counts_and_the_dead_message_but_never_its_payload(web, sqlite_platform):
    message_id = _dead_message(sqlite_platform)
    assert web.login("mj-configurator").status_code == 302
    assert 'href="/admin/outbox/"' in web.get("/admin/").get_data(as_text=True)
    page = web.get("/admin/outbox/").get_data(as_text=True)
    assert "发件箱" in page and 'id="kind-test.sms"' in page
    assert f'id="message-{message_id}"' in page and "sms gateway unreachable" in page and "已失效" in page
    assert SECRET not in page and "王芳" not in page


def test_retry_asks_for_confirmation_then_makes_the_message_pending_again(web, sqlite_platform):
    message_id = _dead_message(sqlite_platform)
    web.login("mj-configurator")
    confirm = web.get(f"/admin/outbox/{message_id}/retry").get_data(as_text=True)
    assert "请确认" in confirm and 'name="csrf_token"' in confirm
    with sqlite_platform.sessions() as s:
        assert s.get(OutboxMessage, message_id).status == "dead"  # the GET changed nothing
    forged = web.client.post(f"/admin/outbox/{message_id}/retry", data={"confirmed": "1"})
    assert forged.status_code == 400  # no CSRF token
    done = web.post(f"/admin/outbox/{message_id}/retry", {"confirmed": "1"},
                    token_from=f"/admin/outbox/{message_id}/retry")
    assert done.status_code == 302
    with sqlite_platform.sessions() as s:
        message = s.get(OutboxMessage, message_id)
        assert (message.status, message.attempts) == ("pending", 0)
    assert "将很快重新投递" in web.get("/admin/outbox/").get_data(as_text=True)
    # a message that has not failed has nothing to retry
    with sqlite_platform.sessions() as s:
        other = s.scalar(select(OutboxMessage.id).where(OutboxMessage.key == "sms:2"))
    again = web.post(f"/admin/outbox/{other}/retry", {"confirmed": "1"}, token_from="/admin/outbox/")
    assert again.status_code == 302
    assert "没有失败" in web.get("/admin/outbox/").get_data(as_text=True)


def test_the_page_is_404_for_citizens_and_reviewers(web, sqlite_platform):
    message_id = _dead_message(sqlite_platform)
    web.login("mj-community")
    assert web.get("/admin/outbox/").status_code == 404
    assert web.get(f"/admin/outbox/{message_id}/retry").status_code == 404
    web.client.get("/auth/logout")
    web.login("mj-citizen-chen")
    assert web.get("/admin/outbox/").status_code == 404
