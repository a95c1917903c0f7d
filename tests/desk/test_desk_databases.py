"""The desk's key pages on SQLite and on PostgreSQL: queue (with parallel branches), detail, mark, act, stale."""

from __future__ import annotations

import re
from datetime import date

from desk_support import JX, MZ, app_row, create, events, marking_form, not_applicable, table_of, version_on

START = date(2026, 3, 2)


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="queue-row-(\d+)"', html)]


def _act(client, app_id, stage, action, version, **extra):
    data = {"stage": stage, "action": action, "expected_version": str(version), **extra}
    return client.post(f"/desk/applications/{app_id}/act", data, token_from=f"/desk/applications/{app_id}")


def test_key_pages_on_each_database(desk_on_each_database):
    desk = desk_on_each_database
    app_id = create(desk.p, MZ, today=START, category="low-income", with_file=True)
    elsewhere = create(desk.p, MZ, today=START, office="441402002001")
    client = desk.client("mj-community")

    assert _ids(client.get("/desk/").get_data(as_text=True)) == [app_id]
    assert _ids(client.get("/desk/?category=low-income&overdue=0&stage=community_acceptance")
                .get_data(as_text=True)) == [app_id]
    assert client.get(f"/desk/applications/{elsewhere}").status_code == 404
    page = client.get(f"/desk/applications/{app_id}").get_data(as_text=True)
    assert 'id="marking-community_acceptance"' in page and "4414**********0314" in page

    table = table_of(desk.p, app_id, "community_acceptance")
    refused = client.post(f"/desk/applications/{app_id}/stages/community_acceptance/marking",
                          marking_form(table, fail=("1", 0)), token_from=f"/desk/applications/{app_id}")
    assert refused.status_code == 400
    na = not_applicable(desk.p, app_id, "community_acceptance")
    saved = client.post(f"/desk/applications/{app_id}/stages/community_acceptance/marking",
                        marking_form(table, na=na), token_from=f"/desk/applications/{app_id}")
    assert saved.status_code == 302

    other = desk.client("mj-community")
    version = version_on(other.get(f"/desk/applications/{app_id}").get_data(as_text=True),
                         "community_acceptance", "accept")
    assert _act(client, app_id, "community_acceptance", "accept", version).status_code == 302
    late = _act(other, app_id, "community_acceptance", "accept", version)
    assert late.status_code == 409 and "该申请已被他人处理" in late.get_data(as_text=True)
    assert [e.action for e in events(desk.p, app_id)].count("accept") == 1
    assert _ids(client.get("/desk/").get_data(as_text=True)) == []
    assert _ids(desk.client("mj-street").get("/desk/").get_data(as_text=True)) == [app_id]


def test_parallel_branches_reach_both_owners(desk_on_each_database):
    desk = desk_on_each_database
    app_id = create(desk.p, JX, today=START)
    clerk = desk.client("jx-street-clerk")
    table = table_of(desk.p, app_id, "acceptance")
    clerk.post(f"/desk/applications/{app_id}/stages/acceptance/marking", marking_form(table),
               token_from=f"/desk/applications/{app_id}")
    version = app_row(desk.p, app_id).version
    assert _act(clerk, app_id, "acceptance", "accept", version).status_code == 302
    stages = app_row(desk.p, app_id).stages
    assert set(stages) == {"civil_affairs_check", "housing_check"} and len(stages) == 2

    for username in ("jx-civil-affairs", "jx-housing-reviewer"):
        reviewer = desk.client(username)
        assert _ids(reviewer.get("/desk/").get_data(as_text=True)) == [app_id], username
        page = reviewer.get(f"/desk/applications/{app_id}").get_data(as_text=True)
        assert page.count('class="card stage"') == 1, username  # only the branch they own
    # the second branch (not Application.stage) is found through the JSON list, also when filtered
    housing = desk.client("jx-housing-reviewer")
    assert _ids(housing.get("/desk/?stage=housing_check").get_data(as_text=True)) == [app_id]
    assert _ids(desk.client("mj-community").get("/desk/").get_data(as_text=True)) == []
