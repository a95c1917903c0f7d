"""The queue lists what the reviewer may act on now, overdue first, filtered, paged by keyset."""

from __future__ import annotations

import re
from datetime import date, timedelta

from desk_support import JX, create
from sqlalchemy import update

from formflow.db.models import Application
from formflow.reviews.queue import Filters, decode_cursor, queue_page

OTHER_STREET_COMMUNITY = "441402002001"


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="queue-row-(\d+)"', html)]


def test_queue_shows_only_what_the_reviewer_may_act_on(desk):
    today = date(2026, 3, 2)
    mine = create(desk.p, today=today, category="low-income")
    other_street = create(desk.p, today=today, office=OTHER_STREET_COMMUNITY)
    other_pack = create(desk.p, JX, today=today)

    community = desk.client("mj-community")
    page = community.get("/desk/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert _ids(html) == [mine]
    assert "陈志强" in html and "4414**********0314" in html and "441402198803150314" not in html
    assert "低收入住房困难家庭" in html and "社区受理" in html

    assert community.get(f"/desk/applications/{mine}").status_code == 200
    for app_id in (other_street, other_pack):
        assert community.get(f"/desk/applications/{app_id}").status_code == 404
        assert community.get(f"/desk/applications/{app_id}/files/{'0' * 64}").status_code == 404

    # the street reviewer owns no stage the application is at now
    street = desk.client("mj-street")
    assert _ids(street.get("/desk/").get_data(as_text=True)) == []
    # a citizen has no desk at all
    assert desk.client("mj-citizen-chen").get("/desk/").status_code == 404
    # not signed in: to the sign-in page
    assert desk.client().get("/desk/").status_code == 302


def test_overdue_first_then_deadline_and_filters(desk):
    today = date(2026, 3, 2)
    a = create(desk.p, today=today, category="low-income", channel="web")
    b = create(desk.p, today=today, category="new-employee", channel="community")
    c = create(desk.p, today=today, category="low-income", channel="community")
    with desk.p.sessions.begin() as s:
        s.execute(update(Application).where(Application.id == a).values(deadline=today + timedelta(days=9)))
        s.execute(update(Application).where(Application.id == b).values(deadline=today + timedelta(days=1)))
        s.execute(update(Application).where(Application.id == c).values(deadline=today + timedelta(days=20),
                                                                            overdue=True))
    client = desk.client("mj-community")
    html = client.get("/desk/").get_data(as_text=True)
    assert _ids(html) == [c, b, a]
    assert f'id="queue-row-{c}" class="is-overdue"' in html and "已超期" in html

    assert _ids(client.get("/desk/?category=low-income").get_data(as_text=True)) == [c, a]
    assert _ids(client.get("/desk/?channel=community").get_data(as_text=True)) == [c, b]
    assert _ids(client.get("/desk/?overdue=1").get_data(as_text=True)) == [c]
    assert _ids(client.get("/desk/?overdue=0").get_data(as_text=True)) == [b, a]
    assert _ids(client.get("/desk/?stage=community_acceptance").get_data(as_text=True)) == [c, b, a]
    assert _ids(client.get("/desk/?stage=street_review").get_data(as_text=True)) == []


def test_keyset_pagination_over_more_than_one_page(desk):
    today = date(2026, 3, 2)
    made = [create(desk.p, today=today) for _ in range(45)]
    with desk.p.sessions.begin() as s:
        for i, app_id in enumerate(made):
            values = {"deadline": None if i % 7 == 0 else today + timedelta(days=i % 5),
                      "overdue": i % 4 == 0}
            s.execute(update(Application).where(Application.id == app_id).values(**values))
        rows = s.query(Application.id, Application.overdue, Application.deadline).all()
    expected = [r.id for r in sorted(rows, key=lambda r: (not r.overdue, r.deadline or date.max, r.id))]

    client = desk.client("mj-community")
    seen: list[int] = []
    url = "/desk/"
    pages = 0
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += _ids(html)
        pages += 1
        found = re.search(r'href="([^"]+)" class="button" id="queue-next"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
        assert pages < 10
    assert pages == 3 and seen == expected

    # the cursor is a keyset position, not an offset; junk cursors give the first page
    with desk.p.sessions() as s:
        account = desk.p.account("mj-community")
        first = queue_page(s, account, filters=Filters(), limit=20)
        assert decode_cursor(first.next_cursor)[2] == first.items[-1].id
        assert [a.id for a in queue_page(s, account, filters=Filters(), after="@@junk").items] == \
            [a.id for a in first.items]
