"""Issue 7 — authorization: out of reach answers 404 (existence does not leak), anonymous → sign-in.

Every denial case has a matching positive control (`test_the_rightful_person_reaches_it`):
the same URL answers 200 (or a redirect) for the person it belongs to, so a 404 here
is the protection at work, not a broken URL.
"""

from __future__ import annotations

import pytest
from sec_support import JX, MZ, TODAY, create
from sqlalchemy import select

from formflow.db.models import Account, Application, Notice
from formflow.files.storage import store
from formflow.packs.versions import load_pinned

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _objects(sec) -> dict[str, object]:
    """A (chen's, 梅江 community 001), B (another street), a notice and a file of A."""
    p = sec.p
    a = create(p, MZ, today=TODAY, with_file=True)
    b = create(p, MZ, today=TODAY, office="441402002001", with_file=True)
    with p.sessions.begin() as s:
        app = s.get(Application, a)
        sha = app.data["materials"]["id_card"][0]["sha256"]
        stored = store(s, p.storage, PDF, "application/pdf")
        n = Notice(application_id=a, pack=MZ, kind="acceptance", title="受理通知书", year=2026, seq=1,
                   number="梅江受〔2026〕1号", sha256=stored.sha256)
        s.add(n)
        s.flush()
        nid = n.id
        bsha = s.get(Application, b).data["materials"]["id_card"][0]["sha256"]
    return {"a": a, "b": b, "sha": sha, "bsha": bsha, "notice": nid}


def _api(sec, username):
    from api_support import Client

    c = Client(sec.app)
    c.sign_in(username)
    return c


# (case no., who, channel, method, url template, expected status)
CASES = [
    (1, "mj-citizen-huang", "web", "GET", "/portal/applications/{a}", 404),
    (2, "mj-citizen-huang", "web", "GET", "/portal/applications/{a}/files/{sha}", 404),
    (3, "mj-citizen-huang", "web", "GET", "/portal/notices/{notice}.pdf", 404),
    (4, "mj-citizen-huang", "web", "POST", "/portal/applications/{a}/withdraw", 404),
    (5, "mj-citizen-huang", "api", "GET", "/applications/{a}", 404),
    (6, "mj-citizen-huang", "api", "GET", "/applications/{a}/files/{sha}", 404),
    (7, "mj-citizen-huang", "api", "GET", "/notices/{notice}", 404),
    (8, "mj-citizen-huang", "api", "POST", "/applications/{a}/withdraw", 404),
    (9, "mj-street", "web", "GET", "/desk/applications/{b}", 404),
    (10, "mj-street", "web", "GET", "/desk/applications/{b}/files/{bsha}", 404),
    (11, "mj-street", "web", "POST", "/desk/applications/{b}/act", 404),
    (12, "mj-community", "web", "GET", "/desk/applications/{b}", 404),
    (13, "jx-street-clerk", "web", "GET", "/desk/applications/{a}", 404),
    (14, "jx-street-clerk", "web", "GET", "/desk/applications/{a}/notices/{notice}", 404),
    (15, "jx-street-clerk", "api", "GET", "/review/applications/{a}", 404),
    (16, "mj-street", "api", "GET", "/review/applications/{b}", 404),
    (17, "mj-citizen-chen", "web", "GET", "/desk/", 404),
    (18, "mj-citizen-chen", "web", "GET", "/admin/", 404),
    (19, "mj-citizen-chen", "web", "GET", "/housing/", 404),
    (20, "mj-window", "web", "GET", "/portal/applications/{a}", 404),
    (21, "mj-window", "web", "GET", "/portal/applications/{a}/files/{sha}", 404),
    (22, "mj-citizen-huang", "web", "GET", "/desk/applications/{a}", 404),
    (23, "mj-citizen-chen", "api", "GET", "/review/applications/{a}", 404),
]


@pytest.mark.parametrize(("no", "who", "channel", "method", "url", "status"), CASES,
                         ids=[f"{c[0]:02d}-{c[1]}-{c[3]}-{c[4]}" for c in CASES])
def test_out_of_reach_answers_404(sec, no, who, channel, method, url, status):
    o = _objects(sec)
    path = url.format(**o)
    before = _state(sec, o)
    if channel == "web":
        c = sec.client(who)
        if method == "GET":
            r = c.get(path)
        else:
            r = c.post(path, {"confirm": "yes", "stage": "x", "action": "y", "expected_version": "1"})
    else:
        c = _api(sec, who)
        r = c.get(path) if method == "GET" else c.send("POST", path, {"reason": "x"})
    assert r.status_code == status, (no, r.status_code, r.get_data(as_text=True)[:300])
    body = r.get_data(as_text=True)
    assert "陈志强" not in body and "441402198803150314" not in body
    assert _state(sec, o) == before  # a refused POST changed nothing


def _state(sec, o):
    with sec.p.sessions() as s:
        return [(x.status, x.version, list(x.stages or [])) for x in (s.get(Application, o["a"]),
                                                                       s.get(Application, o["b"]))]


# The positive controls: the same URLs for the person they belong to.
OWNERS = [
    ("mj-citizen-chen", "web", "/portal/applications/{a}"),
    ("mj-citizen-chen", "web", "/portal/applications/{a}/files/{sha}"),
    ("mj-citizen-chen", "web", "/portal/notices/{notice}.pdf"),
    ("mj-citizen-chen", "api", "/applications/{a}"),
    ("mj-citizen-chen", "api", "/applications/{a}/files/{sha}"),
    ("mj-citizen-chen", "api", "/notices/{notice}"),
    ("mj-community", "web", "/desk/applications/{a}"),
    ("mj-community", "web", "/desk/applications/{a}/files/{sha}"),
    ("mj-community", "web", "/desk/applications/{a}/notices/{notice}"),
    ("mj-community", "api", "/review/applications/{a}"),
    ("mj-street", "web", "/desk/"),
    ("mj-configurator", "web", "/admin/"),
]


@pytest.mark.parametrize(("who", "channel", "url"), OWNERS, ids=[f"{w}-{u}" for w, _, u in OWNERS])
def test_the_rightful_person_reaches_it(sec, who, channel, url):
    o = _objects(sec)
    path = url.format(**o)
    r = sec.client(who).get(path) if channel == "web" else _api(sec, who).get(path)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]


def test_window_clerk_reaches_what_they_assisted(sec):
    o = _objects(sec)
    with sec.p.sessions.begin() as s:
        clerk = s.scalar(select(Account).where(Account.username == "mj-window"))
        s.get(Application, o["a"]).assisted_by_id = clerk.id
    assert sec.client("mj-window").get(f"/portal/applications/{o['a']}").status_code == 200


ANONYMOUS = ["/portal/my", "/portal/applications/{a}", "/portal/applications/{a}/files/{sha}",
             "/portal/notices/{notice}.pdf", "/desk/", "/desk/applications/{a}", "/admin/", "/housing/",
             "/housing/mine", "/portal/applications/{a}/withdraw"]


@pytest.mark.parametrize("url", ANONYMOUS)
def test_anonymous_is_sent_to_sign_in(sec, url):
    o = _objects(sec)
    r = sec.client().get(url.format(**o))
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"], (r.status_code, r.headers)


def test_anonymous_api_is_401(sec):
    o = _objects(sec)
    from api_support import Client

    r = Client(sec.app).get(f"/applications/{o['a']}")
    assert r.status_code == 401


def test_reviewer_cannot_act_at_a_stage_their_role_does_not_own(sec):
    """mj-leader (bureau leader) is in reach of A later in the chain, not at the community's stage."""
    o = _objects(sec)
    with sec.p.sessions() as s:
        app = s.get(Application, o["a"])
        stage, version = app.stages[0], app.version
        spec_actions = list(load_pinned(s, app.versions).workflow["stages"][stage]["actions"])
    c = sec.client("mj-leader")
    r = c.post(f"/desk/applications/{o['a']}/act",
               {"stage": stage, "action": spec_actions[0], "expected_version": str(version),
                "note": "越权", "confirmed": "1"})
    assert r.status_code in (404, 409), r.status_code
    with sec.p.sessions() as s:
        app = s.get(Application, o["a"])
        assert (app.stages[0], app.version) == (stage, version)


def test_jiangxi_pack_is_not_reached_by_meijiang_staff(sec):
    j = create(sec.p, JX, today=TODAY)
    assert sec.client("mj-street").get(f"/desk/applications/{j}").status_code == 404
    assert sec.client("jx-street-clerk").get(f"/desk/applications/{j}").status_code == 200
