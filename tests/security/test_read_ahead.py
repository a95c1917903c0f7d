"""Issue 12 — early read access: a higher office reads an application still at the community only when the
pack grants it (`read_ahead` in the workflow), masked, with the access log as for every reviewer.

Without a grant (the shipped packs) the bureau leader gets 404 on the desk, the API, the file and the full-ID
reveal of an application at community acceptance; the community clerk (positive control) reads it. With a grant
(`bureau_leader` from `community_acceptance`, `centre_reviewer` from `street_review`, in a private copy of the
configuration) the leader gets 200, masked, and the reveal is recorded; roles not granted still get 404, a grant
from a later stage opens only once the application is there, and nothing is in the leader's queue or hands.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sec_support import JX, MZ, TODAY, Sec, create
from sqlalchemy import select

from formflow.db.models import Account, Application
from formflow.packs import load_packs
from formflow.personal.access_log import FULL_ID_NUMBER, records_of
from formflow.reviews.queue import in_reach, reach_of
from support import ROOT, Platform, WebClient, make_web_app

WORKFLOW = f"workflows/{MZ}/public-rental-housing.yaml"
FULL_ID = "441402198803150314"
MASKED = "4414**********0314"
GRANT = """
read_ahead:
  - roles: [bureau_leader]
    from: community_acceptance
    note: test grant
  - roles: [centre_reviewer]
    from: street_review
"""


def _copy(dest: Path) -> Path:
    for name in ("schemas", "workflows", "seeds", "renderers"):
        shutil.copytree(ROOT / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def granted_packs(tmp_path_factory):
    """The shipped configuration with the grant added to Meijiang's housing workflow, loaded once."""
    root = _copy(tmp_path_factory.mktemp("granted"))
    with (root / WORKFLOW).open("a", encoding="utf-8") as fh:
        fh.write(GRANT)
    packs = load_packs(root)
    assert not packs.problems, packs.problems
    return packs


@pytest.fixture
def granted(sqlite_template, tmp_path, granted_packs) -> Sec:
    target = tmp_path / "g.sqlite3"
    shutil.copyfile(sqlite_template, target)
    p = Platform(f"sqlite:///{target}", granted_packs.root, tmp_path / "instance", packs=granted_packs,
                 prepared=True)
    yield Sec(p, WebClient(make_web_app(p)))
    p.engine.dispose()


def _api(sec, username):
    from api_support import Client

    c = Client(sec.app)
    c.sign_in(username)
    return c


def _file_of(sec, app_id):
    with sec.p.sessions() as s:
        return s.get(Application, app_id).data["materials"]["id_card"][0]["sha256"]


def _records(sec, app_id, username):
    with sec.p.sessions() as s:
        who = s.scalar(select(Account.id).where(Account.username == username))
        return [r.what for r in records_of(s, app_id) if r.account_id == who]


def _reveal(sec, c, app_id):
    return c.post(f"/desk/applications/{app_id}/full-id-number", {}, token_from="/desk/")


# --------------------------------------------------------------------------- without a grant: 404

def test_without_a_grant_the_leader_gets_404_at_community_acceptance(sec):
    app_id = create(sec.p, MZ, today=TODAY, with_file=True)
    sha = _file_of(sec, app_id)
    c = sec.client("mj-leader")
    for url in (f"/desk/applications/{app_id}", f"/desk/applications/{app_id}/files/{sha}"):
        r = c.get(url)
        assert r.status_code == 404, (url, r.status_code)
        assert "陈志强" not in r.get_data(as_text=True)
    assert _reveal(sec, c, app_id).status_code == 404
    api = _api(sec, "mj-leader")
    assert api.get(f"/review/applications/{app_id}").status_code == 404
    assert _records(sec, app_id, "mj-leader") == []


def test_without_a_grant_the_community_clerk_reads_it(sec):
    """Positive control of the 404 above: the same URLs answer the office the application is at."""
    app_id = create(sec.p, MZ, today=TODAY, with_file=True)
    sha = _file_of(sec, app_id)
    c = sec.client("mj-community")
    assert c.get(f"/desk/applications/{app_id}").status_code == 200
    assert c.get(f"/desk/applications/{app_id}/files/{sha}").status_code == 200
    assert _api(sec, "mj-community").get(f"/review/applications/{app_id}").status_code == 200


# --------------------------------------------------------------------------- with the grant: 200, masked, logged

def test_with_the_grant_the_leader_reads_it_masked_on_the_desk(granted):
    app_id = create(granted.p, MZ, today=TODAY, with_file=True)
    c = granted.client("mj-leader")
    r = c.get(f"/desk/applications/{app_id}")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    page = r.get_data(as_text=True)
    assert "陈志强" in page and MASKED in page and FULL_ID not in page
    assert c.get(f"/desk/applications/{app_id}/files/{_file_of(granted, app_id)}").status_code == 200
    # the e-licence data shown is in the access log under the leader's name, as for every reviewer
    assert _records(granted, app_id, "mj-leader") == ["elicence:idcard"]


def test_with_the_grant_the_leader_reads_it_masked_on_the_api(granted):
    app_id = create(granted.p, MZ, today=TODAY)
    r = _api(granted, "mj-leader").get(f"/review/applications/{app_id}")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.json["applicant"]["id_number_masked"] == MASKED
    assert FULL_ID not in r.get_data(as_text=True)


def test_with_the_grant_the_leaders_full_id_reveal_is_recorded(granted):
    app_id = create(granted.p, MZ, today=TODAY)
    r = _reveal(granted, granted.client("mj-leader"), app_id)
    assert r.status_code == 200 and FULL_ID in r.get_data(as_text=True)
    assert FULL_ID_NUMBER in _records(granted, app_id, "mj-leader")


def test_with_the_grant_the_leader_can_read_but_not_act_and_has_nothing_queued(granted):
    app_id = create(granted.p, MZ, today=TODAY)
    c = granted.client("mj-leader")
    queue = c.get("/desk/").get_data(as_text=True)
    assert f"/desk/applications/{app_id}\"" not in queue
    with granted.p.sessions() as s:
        version = s.get(Application, app_id).version
    r = c.post(f"/desk/applications/{app_id}/act", {"stage": "community_acceptance", "action": "accept",
                                                     "expected_version": str(version), "confirmed": "1"},
               token_from="/desk/")
    assert r.status_code in (404, 409), r.status_code
    with granted.p.sessions() as s:
        app = s.get(Application, app_id)
        assert (app.stages, app.version) == (["community_acceptance"], version)


def test_with_the_grant_roles_not_granted_still_get_404(granted):
    """Negative controls inside the granted pack: the section chief is not granted, Jiangxi is another pack."""
    app_id = create(granted.p, MZ, today=TODAY)
    for who in ("mj-section", "mj-civil-affairs", "jx-street-clerk"):
        assert granted.client(who).get(f"/desk/applications/{app_id}").status_code == 404, who
        assert _api(granted, who).get(f"/review/applications/{app_id}").status_code == 404, who


def test_a_grant_from_a_later_stage_opens_only_once_the_application_is_there(granted):
    from desk_support import marking_form, table_of

    app_id = create(granted.p, MZ, today=TODAY)
    centre = granted.client("mj-centre")
    assert centre.get(f"/desk/applications/{app_id}").status_code == 404  # still at community acceptance
    clerk = granted.client("mj-community")
    stage = "community_acceptance"
    r = clerk.post(f"/desk/applications/{app_id}/stages/{stage}/marking", marking_form(table_of(granted.p, app_id,
                                                                                              stage)),
                   token_from=f"/desk/applications/{app_id}")
    assert r.status_code == 302
    with granted.p.sessions() as s:
        version = s.get(Application, app_id).version
    r = clerk.post(f"/desk/applications/{app_id}/act", {"stage": stage, "action": "accept",
                                                         "expected_version": str(version)},
                   token_from=f"/desk/applications/{app_id}")
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    assert "street_review" in _stages(granted, app_id)
    assert centre.get(f"/desk/applications/{app_id}").status_code == 200


def _stages(sec, app_id):
    with sec.p.sessions() as s:
        return list(s.get(Application, app_id).stages or [])


def test_the_grant_is_read_from_the_current_files(granted, shipped_packs):
    """The same database, read with the shipped files (no grant): the leader's early read is gone at once."""
    app_id = create(granted.p, MZ, today=TODAY)
    with granted.p.sessions() as s:
        leader = s.scalar(select(Account.id).where(Account.username == "mj-leader"))
        assert in_reach(s, app_id, reach_of(s, leader, granted.p.packs))
        assert not in_reach(s, app_id, reach_of(s, leader, shipped_packs))
        assert JX not in {r.pack for r in reach_of(s, leader, granted.p.packs)}


# --------------------------------------------------------------------------- formflow check

def _problems_with(tmp_path, grant: str):
    root = _copy(tmp_path / "config")
    with (root / WORKFLOW).open("a", encoding="utf-8") as fh:
        fh.write(grant)
    return [p for p in load_packs(root).problems if p.severity == "error"]


@pytest.mark.parametrize(("grant", "pointer", "words"), [
    ("read_ahead:\n  - {roles: [bureau_leadr], from: community_acceptance}\n", "/read_ahead/0/roles/0",
     ["'bureau_leadr'", "'bureau_leader'"]),
    ("read_ahead:\n  - {roles: [bureau_leader], from: comunity_acceptance}\n", "/read_ahead/0/from",
     ["'comunity_acceptance'", "'community_acceptance'"]),
    ("read_ahead:\n  - {roles: [bureau_leader], from: community_acceptance, until: leader_approval}\n", None, []),
], ids=["unknown-role", "unknown-stage", "unknown-key"])
def test_check_names_a_bad_grant_with_the_closest_name(tmp_path, grant, pointer, words):
    problems = _problems_with(tmp_path, grant)
    assert problems, "the bad grant was accepted"
    if pointer is None:  # the meta-schema refuses a key it does not know
        assert any(p.file == WORKFLOW for p in problems), problems
        return
    found = [p for p in problems if p.file == WORKFLOW and p.pointer == pointer]
    assert len(found) == 1, problems
    for word in words:
        assert word in found[0].message, found[0].message
    assert "是否应为" in found[0].message


def test_check_refuses_a_grant_to_a_role_owning_no_stage(tmp_path):
    root = _copy(tmp_path / "config")
    text = (root / WORKFLOW).read_text(encoding="utf-8")
    text = text.replace("roles:\n", "roles:\n  observer: {title: 观察员}\n", 1)
    (root / WORKFLOW).write_text(text + "read_ahead:\n  - {roles: [observer], from: community_acceptance}\n",
                                 encoding="utf-8")
    problems = [p for p in load_packs(root).problems if p.severity == "error"]
    assert [(p.file, p.pointer) for p in problems] == [(WORKFLOW, "/read_ahead/0/roles/0")], problems
    assert "不负责任何环节" in problems[0].message


def test_check_accepts_a_sound_grant(granted_packs):
    """Positive control of the check cases: the grant the other tests use loads without a problem."""
    assert not granted_packs.problems
    wf = granted_packs.packs[MZ].matters["public-rental-housing"].workflow.content
    assert wf["read_ahead"][0] == {"roles": ["bureau_leader"], "from": "community_acceptance", "note": "test grant"}
