"""Granting or revoking a role ends the account's sessions; bad names get clear errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from formflow.auth.grants import GrantError, grant_role, revoke_role


def _signed_in(web) -> bool:
    return 'action="/auth/logout"' in web.get("/").get_data(as_text=True)


def test_revoking_a_role_signs_the_reviewer_out(web, sqlite_platform):
    web.login("mj-street")
    assert _signed_in(web) and web.get("/desk/").status_code == 200
    with sqlite_platform.sessions.begin() as s:
        revoke_role(s, "mj-street", "street_reviewer")
    assert not _signed_in(web)
    web.login("mj-street")
    assert web.get("/desk/").status_code == 404, "without the role the desk is not theirs"


def test_granting_a_role_signs_out_too(web, sqlite_platform):
    web.login("mj-citizen-chen")
    assert _signed_in(web)
    with sqlite_platform.sessions.begin() as s:
        grant_role(s, "mj-citizen-chen", "street_reviewer", "441402001")
    assert not _signed_in(web)
    web.login("mj-citizen-chen")
    assert web.get("/desk/").status_code == 200


@pytest.mark.parametrize(("username", "office", "message"), [
    ("nobody", None, "账号 'nobody' 不存在"), ("mj-street", "000", "机构 '000' 不存在")])
def test_unknown_names_are_refused(sqlite_platform, username, office, message):
    with sqlite_platform.sessions.begin() as s, pytest.raises(GrantError, match=message):
        grant_role(s, username, "street_reviewer", office)


def test_cli_grant_and_revoke(sqlite_platform):
    env = dict(os.environ, FORMFLOW_DATABASE_URL=sqlite_platform.url)
    cmd = [sys.executable, "-m", "formflow.cli", "roles"]
    done = subprocess.run([*cmd, "grant", "mj-window", "street_reviewer", "--office", "441402001"],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0 and "已授予" in done.stdout, done.stderr
    gone = subprocess.run([*cmd, "revoke", "mj-window", "no_such_role"], capture_output=True, text=True, env=env)
    assert gone.returncode == 1 and "没有角色" in gone.stderr
