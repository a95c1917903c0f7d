"""Issue 12 — sessions that end at logout, the security log and the auditor (审计员), caching, redirects, banners.

Each denial has its positive control next to it (the same request by the rightful person answers 200 or 302).
"""

from __future__ import annotations

import csv
import io
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pytest
from sec_support import MZ, TODAY, create
from sqlalchemy import select, text

from formflow.auth import seclog
from formflow.auth.grants import GrantError, grant_role, revoke_role
from formflow.db.models import AccessRecord, Account, Application, Notice, SecurityEvent, WebSession
from formflow.files.storage import store
from support import ROOT, demo_password

sys.path.append(str(Path(__file__).resolve().parents[1] / "allocation"))

DESK = "/desk/"


def _cookie(c) -> str:
    return c.client.get_cookie("session").value


def _with_cookie(sec, value: str):
    other = sec.client()
    other.client.set_cookie("session", value)
    return other


# ---------------------------------------------------------------- sessions

def test_a_copied_cookie_no_longer_opens_the_desk_after_logout(sec):
    c = sec.client("mj-community")
    copy = _with_cookie(sec, _cookie(c))
    assert copy.get(DESK).status_code == 200  # positive control: the copy works while signed in
    c.post("/auth/logout", token_from="/")
    r = copy.get(DESK)
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    assert c.get(DESK).status_code == 302


def test_logout_ends_only_that_session(sec):
    one, two = sec.client("mj-community"), sec.client("mj-community")
    one.post("/auth/logout", token_from="/")
    assert two.get(DESK).status_code == 200


@pytest.mark.parametrize(("hours", "open_"), [(11, True), (13, False)])
def test_no_session_outlives_12_hours(sec, hours, open_):
    c = sec.client("mj-community")
    with sec.p.sessions.begin() as s:
        for row in s.scalars(select(WebSession)):
            row.created_at = row.created_at - timedelta(hours=hours)
    r = c.get(DESK)
    assert (r.status_code == 200) is open_


def test_five_wrong_current_passwords_end_the_session(sec):
    c = sec.client("mj-citizen-huang")
    for i in range(4):
        r = c.post("/auth/password", {"current": f"Wrong-{i}-password", "new": "Meiju-Lanterns-8x",
                                      "confirm": "Meiju-Lanterns-8x"}, token_from="/auth/password")
        assert r.status_code == 400 and "当前密码不正确" in r.get_data(as_text=True)
    assert c.get("/portal/my").status_code == 200  # positive control: four failures leave it open
    r = c.post("/auth/password", {"current": "Wrong-5-password", "new": "Meiju-Lanterns-8x",
                                  "confirm": "Meiju-Lanterns-8x"}, token_from="/auth/password")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    assert c.get("/portal/my").status_code == 302


# ---------------------------------------------------------------- the security log

def _log(sec, kind: str) -> list[SecurityEvent]:
    with sec.p.sessions() as s:
        return list(s.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind).order_by(SecurityEvent.id)))


def test_sign_ins_failures_logouts_and_password_changes_are_logged(sec):
    c = sec.client()
    c.login("mj-citizen-huang", "Wrong-password-1")
    c.login("mj-citizen-huang")
    c.post("/auth/password", {"current": demo_password("mj-citizen-huang"), "new": "Meiju-Lanterns-8x",
                              "confirm": "Meiju-Lanterns-8x"}, token_from="/auth/password")
    c.post("/auth/logout", token_from="/")
    for kind in (seclog.SIGN_IN_FAILED, seclog.SIGN_IN, seclog.PASSWORD_CHANGE, seclog.LOGOUT):
        rows = _log(sec, kind)
        assert rows and rows[-1].actor == "mj-citizen-huang" and rows[-1].address == "127.0.0.1", kind


def test_lockouts_are_logged(sec):
    c = sec.client()
    for _ in range(4):
        c.login("mj-citizen-chen", "Wrong-password-1")
    assert _log(sec, seclog.LOCKOUT) == []
    c.login("mj-citizen-chen", "Wrong-password-1")
    assert [r.actor for r in _log(sec, seclog.LOCKOUT)] == ["mj-citizen-chen"]


def test_api_tokens_issue_refresh_and_revoke_are_logged(sec):
    from api_support import Client

    api = Client(sec.app)
    api.sign_in("mj-citizen-chen")
    r = api.post("/tokens/refresh", {"refresh_token": api.refresh})
    assert r.status_code == 201
    api.post("/tokens/revoke", {"refresh_token": r.json["refresh_token"]})
    assert [len(_log(sec, k)) for k in (seclog.TOKEN_ISSUE, seclog.TOKEN_REFRESH, seclog.TOKEN_REVOKE)] == [1, 1, 1]
    assert _log(sec, seclog.TOKEN_ISSUE)[0].actor == "mj-citizen-chen"


def test_role_grants_and_revokes_are_logged(sec):
    with sec.p.sessions.begin() as s:
        grant_role(s, "mj-citizen-huang", "window_clerk", "meijiang-service-hall", by="test-operator")
        revoke_role(s, "mj-citizen-huang", "window_clerk", by="test-operator")
    grants, revokes = _log(sec, seclog.ROLE_GRANT), _log(sec, seclog.ROLE_REVOKE)
    assert (grants[-1].subject, grants[-1].actor, grants[-1].detail) == (
        "mj-citizen-huang", "test-operator", "window_clerk@meijiang-service-hall")
    assert revokes[-1].subject == "mj-citizen-huang"


def test_the_auditor_role_is_kept_apart_from_staff_roles(sec):
    with sec.p.sessions.begin() as s, pytest.raises(GrantError):
        grant_role(s, "mj-street", "auditor")
    with sec.p.sessions.begin() as s, pytest.raises(GrantError):
        grant_role(s, "mj-auditor", "configurator")
    with sec.p.sessions.begin() as s:  # positive control: a citizen may become auditor
        grant_role(s, "mj-citizen-huang", "auditor")


def test_the_security_log_is_append_only(sec):
    sec.client("mj-citizen-chen")
    with sec.p.engine.connect() as conn:
        for statement in ("UPDATE security_log SET actor = 'someone-else'", "DELETE FROM security_log"):
            with pytest.raises(Exception, match="append-only"):
                conn.execute(text(statement))
            conn.rollback()
    assert _log(sec, seclog.SIGN_IN)[-1].actor == "mj-citizen-chen"


def test_the_auditor_reads_and_exports_the_log(sec):
    sec.client().login("no-such-person", "Wrong-password-1")
    auditor = sec.client("mj-auditor")
    page = auditor.get("/audit/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "安全日志" in body and "no-such-person" in body and "登录失败" in body
    assert page.headers["Cache-Control"] == "no-store"
    r = auditor.get("/audit/log.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["时间", "事项", "账号"] and any("no-such-person" in row for row in rows)
    assert _log(sec, seclog.EXPORT)[-1].actor == "mj-auditor"  # the export is itself logged


@pytest.mark.parametrize("who", ["mj-street", "mj-configurator", "mj-citizen-chen", "mj-housing"])
def test_staff_configurators_and_citizens_get_403_on_the_security_log(sec, who):
    c = sec.client(who)
    assert c.get("/audit/").status_code == 403
    assert c.get("/audit/log.csv").status_code == 403


@pytest.mark.parametrize("url", ["/desk/", "/desk/applications/{a}", "/admin/", "/housing/", "/portal/my"])
def test_the_auditor_gets_403_on_application_data_and_configuration(sec, url):
    a = create(sec.p, MZ, today=TODAY)
    assert sec.client("mj-auditor").get(url.format(a=a)).status_code == 403


def test_anonymous_is_sent_to_sign_in_from_the_security_log(sec):
    r = sec.client().get("/audit/")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_the_auditor_signs_in_to_the_security_log(sec):
    r = sec.client().login("mj-auditor")
    assert r.status_code == 302 and r.headers["Location"].endswith("/audit/")


# ---------------------------------------------------------------- caching, redirects, banner

def _objects(sec):
    a = create(sec.p, MZ, today=TODAY, with_file=True)
    with sec.p.sessions.begin() as s:
        sha = s.get(Application, a).data["materials"]["id_card"][0]["sha256"]
        stored = store(s, sec.p.storage, b"%PDF-1.4\n%%EOF\n", "application/pdf")
        n = Notice(application_id=a, pack=MZ, kind="acceptance", title="受理通知书", year=2026, seq=1,
                   number="梅江受〔2026〕1号", sha256=stored.sha256)
        s.add(n)
        s.flush()
        return a, sha, n.id


def test_pages_and_downloads_with_personal_data_are_not_cached(sec):
    a, sha, notice = _objects(sec)
    cases = [("mj-community", f"/desk/applications/{a}"), ("mj-community", f"/desk/applications/{a}/files/{sha}"),
             ("mj-community", f"/desk/applications/{a}/notices/{notice}"),
             ("mj-citizen-chen", f"/portal/applications/{a}"), ("mj-citizen-chen", "/portal/my"),
             ("mj-citizen-chen", f"/portal/applications/{a}/files/{sha}"),
             ("mj-citizen-chen", f"/portal/notices/{notice}.pdf"), ("mj-citizen-chen", "/auth/verify")]
    for who, url in cases:
        r = sec.client(who).get(url)
        assert r.status_code == 200, (url, r.status_code)
        assert "no-store" in r.headers.get("Cache-Control", ""), url
    from api_support import Client

    api = Client(sec.app)
    api.sign_in("mj-citizen-chen")
    for path in (f"/applications/{a}", f"/applications/{a}/files/{sha}", f"/notices/{notice}"):
        r = api.get(path)
        assert r.status_code == 200 and "no-store" in r.headers.get("Cache-Control", ""), path


def test_the_public_home_page_may_be_cached(sec):
    """Positive control: the rule is by area, not everywhere."""
    assert "no-store" not in (sec.client().get("/").headers.get("Cache-Control") or "")


def test_offer_does_not_redirect_off_site(sec):
    from alloc_support import FLAT, approved, household

    app_id = approved(sec.p, on=date(2026, 3, 1), mode=FLAT)
    from alloc_support import filed

    filed(sec.p, TODAY)
    h = household(sec.p, app_id)
    c = sec.client("mj-housing")
    for back, safe in (("//evil.example/x", False), ("https://evil.example/", False), ("/\\evil.example", False),
                       ("/housing/", True)):
        r = c.post(f"/housing/households/{h.id}/offer", {"decision": "decline", "back": back},
                   token_from=f"/housing/households/{h.id}")
        assert r.status_code == 302, back
        location = r.headers["Location"]
        assert ("evil.example" not in location) and (location.endswith("/housing/") is safe), (back, location)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVE = """
import sys
from gunicorn.app.base import BaseApplication
if sys.argv[2] == "quiet":
    from formflow.cli.serve import drop_server_banner
    drop_server_banner()

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]

class Server(BaseApplication):
    def load_config(self):
        self.cfg.set("bind", "127.0.0.1:" + sys.argv[1])
        self.cfg.set("workers", 1)
    def load(self):
        return app

Server().run()
"""


def _server_header(mode: str) -> str | None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(port), mode], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    return r.headers.get("Server")
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not answer")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_gunicorn_does_not_announce_itself():
    assert _server_header("loud") == "gunicorn"  # positive control: gunicorn's default
    assert _server_header("quiet") is None


# ---------------------------------------------------------------- the mobile number on the desk

def test_the_desk_masks_the_mobile_and_records_its_reveal(sec):
    a = create(sec.p, MZ, today=TODAY)
    c = sec.client("mj-community")
    page = c.get(f"/desk/applications/{a}").get_data(as_text=True)
    assert "138****0001" in page and "13807530001" not in page
    with sec.p.sessions() as s:
        before = s.scalar(select(AccessRecord).where(AccessRecord.what == "full_mobile"))
    assert before is None
    r = c.post(f"/desk/applications/{a}/full-mobile", token_from=f"/desk/applications/{a}")
    assert r.status_code == 200 and "13807530001" in r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "no-store"
    with sec.p.sessions() as s:
        rows = list(s.scalars(select(AccessRecord).where(AccessRecord.what == "full_mobile")))
        who = s.get(Account, rows[0].account_id).username
    assert len(rows) == 1 and rows[0].application_id == a and who == "mj-community"


def test_the_security_log_refuses_changes_on_each_database(platform_db):
    """The triggers of migration 0014, on SQLite and PostgreSQL: a line stays as written."""
    with platform_db.sessions.begin() as s:
        seclog.record(s, seclog.SIGN_IN, actor_name="written-once", address="10.0.0.1")
    with platform_db.engine.connect() as conn:
        for statement in ("UPDATE security_log SET actor = 'someone-else'", "DELETE FROM security_log"):
            with pytest.raises(Exception, match="append-only"):
                conn.execute(text(statement))
            conn.rollback()
    with platform_db.sessions() as s:
        assert s.scalar(select(SecurityEvent.actor)) == "written-once"
