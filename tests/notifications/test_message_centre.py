"""我的消息 on the portal and on the API: one's own messages, unread first, mark read; another's is 404."""

from __future__ import annotations

import re
from datetime import date

import pytest
from notes import messages
from wf_support import CITIZEN, JX, MZ, Flow

DAY = date(2026, 3, 2)


@pytest.fixture
def site(sqlite_platform, calendar):
    """The web app (which installs the packs' message kinds) and a Flow on the same database."""
    from support import make_web_app

    app = make_web_app(sqlite_platform)
    flow = Flow(sqlite_platform, calendar)
    yield app, flow
    from formflow.notifications import registry

    registry.uninstall()


def _two_for_chen_one_for_li(flow) -> tuple[int, int]:
    mine = flow.create(MZ, today=DAY)
    flow.act(mine, "community_acceptance", "accept", "mj-community", today=DAY, mark=True)
    flow.act(mine, "street_review", "approve", "mj-street", today=DAY, mark=True)
    theirs = flow.create(JX, today=DAY)
    flow.act(theirs, "acceptance", "accept", "jx-street-clerk", today=DAY, mark=True)
    return mine, theirs


def _badge(page: str) -> str | None:
    found = re.search(r'id="unread-badge"[^>]*>(\d+)<', page)
    return found.group(1) if found else None


def test_the_portal_page_lists_unread_first_and_marks_read(site):
    from support import WebClient

    app, flow = site
    mine, _theirs = _two_for_chen_one_for_li(flow)
    web = WebClient(app)
    assert web.login(CITIZEN[MZ]).status_code == 302
    page = web.get("/portal/my").get_data(as_text=True)
    assert _badge(page) == "2" and "我的消息" in page
    page = web.get("/portal/messages").get_data(as_text=True)
    assert page.index("初审通过，进入公示") < page.index("申请已受理")  # newest first
    assert "李*" not in page  # only chen's own
    accepted, notice = messages(flow.p, CITIZEN[MZ])

    # open the first message: it is marked read and the portal shows the application
    r = web.post(f"/portal/messages/{accepted.id}/read", {"next": f"/portal/applications/{mine}"},
                 token_from="/portal/messages")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/portal/applications/{mine}")
    page = web.get("/portal/messages").get_data(as_text=True)
    assert _badge(page) == "1"
    assert page.index("初审通过，进入公示") < page.index("申请已受理")  # unread first
    # a link elsewhere is not followed
    r = web.post(f"/portal/messages/{notice.id}/read", {"next": "https://example.org/"}, token_from="/portal/messages")
    assert r.headers["Location"].endswith("/portal/messages")
    assert _badge(web.get("/portal/messages").get_data(as_text=True)) is None


def test_mark_all_read_and_another_persons_message_is_404(site):
    from support import WebClient

    app, flow = site
    _two_for_chen_one_for_li(flow)
    theirs = messages(flow.p, CITIZEN[JX])[0]
    web = WebClient(app)
    web.login(CITIZEN[MZ])
    assert web.post(f"/portal/messages/{theirs.id}/read", token_from="/portal/messages").status_code == 404
    assert messages(flow.p, CITIZEN[JX])[0].read_at is None
    assert web.post("/portal/messages/read-all", token_from="/portal/messages").status_code == 302
    assert all(m.read_at is not None for m in messages(flow.p, CITIZEN[MZ]))
    assert messages(flow.p, CITIZEN[JX])[0].read_at is None  # theirs untouched
    page = web.get("/portal/messages").get_data(as_text=True)
    assert _badge(page) is None and "申请已受理" in page


def test_signed_out_the_page_asks_to_sign_in(site):
    from support import WebClient

    app, _flow = site
    r = WebClient(app).get("/portal/messages")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_the_api_lists_and_marks_read(site):
    from api_support import Client

    app, flow = site
    mine, _theirs = _two_for_chen_one_for_li(flow)
    chen = Client(app)
    chen.sign_in(CITIZEN[MZ])
    r = chen.get("/me/messages")
    assert r.status_code == 200
    body = r.json
    assert (body["unread"], body["total"]) == (2, 2)
    assert [m["title"] for m in body["items"]] == ["初审通过，进入公示", "申请已受理"]
    first = body["items"][1]
    assert first["application_id"] == mine and first["unread"] and first["read_at"] is None
    assert first["link"] == f"/portal/applications/{mine}" and "+08:00" in first["created_at"]
    r = chen.post(f"/me/messages/{first['id']}/read")
    assert r.status_code == 200 and r.json["unread"] is False and r.json["read_at"]
    assert chen.get("/me/messages").json["unread"] == 1
    # another person's message, and one that does not exist: 404
    theirs = messages(flow.p, CITIZEN[JX])[0]
    assert chen.post(f"/me/messages/{theirs.id}/read").status_code == 404
    assert chen.post("/me/messages/999999/read").status_code == 404
    li = Client(app)
    li.sign_in(CITIZEN[JX])
    assert [m["id"] for m in li.get("/me/messages").json["items"]] == [theirs.id]
    # without a token: 401
    assert Client(app).get("/me/messages").status_code == 401


def test_the_openapi_document_describes_the_message_resources(site):
    from api_support import Client

    app, _flow = site
    doc = Client(app).get("/openapi.json").json
    assert "/api/v1/me/messages" in doc["paths"] or "/me/messages" in doc["paths"]
    assert "MessageList" in str(doc["components"]["schemas"])


def test_the_desk_header_counts_mine_and_overdue(site):
    from support import WebClient

    app, flow = site
    flow.create(MZ, today=DAY)  # community acceptance due Thursday 5 March
    web = WebClient(app)
    web.login("mj-community")
    page = web.get("/desk/").get_data(as_text=True)
    assert re.search(r'id="queue-mine"[^>]*>1<', page) and 'id="queue-overdue"' not in page
    flow.tick(date(2026, 3, 6))  # now overdue
    page = web.get("/desk/").get_data(as_text=True)
    assert re.search(r'id="queue-overdue"[^>]*>[^<]*<span class="badge badge-bad">1<', page)
    other = WebClient(app)
    other.login("mj-street")  # nothing of theirs
    assert re.search(r'id="queue-mine"[^>]*>0<', other.get("/desk/").get_data(as_text=True))
