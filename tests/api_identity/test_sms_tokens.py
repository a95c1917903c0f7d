"""SMS sign-in on the API: POST /tokens/sms-code, then POST /tokens with grant_type sms.

The same code, caps and throttling as the web (auth.sms): the log sender prints the
code, which the tests read as the web's SMS tests do.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from identity_support import sent_code
from sqlalchemy import select

from formflow.db.models import SecurityEvent, utcnow
from support import demo_password

NEW_MOBILE = "13912340001"
CHEN_MOBILE = "13807530001"  # mj-citizen-chen
CLERK_MOBILE = "13807530011"  # mj-community, a community clerk


@pytest.fixture
def clock(monkeypatch):
    """The SMS caps' clock, moved on by hand (codes and security-log lines are stamped with it)."""
    import formflow.auth.seclog as seclog_module
    import formflow.auth.sms as sms_module

    class Clock:
        now = utcnow()

        def advance(self, seconds: int) -> None:
            self.now += timedelta(seconds=seconds)

    moved = Clock()
    monkeypatch.setattr(sms_module, "utcnow", lambda: moved.now)
    monkeypatch.setattr(seclog_module, "utcnow", lambda: moved.now)
    return moved


def ask(idapi, mobile: str):
    return idapi.client().post("/tokens/sms-code", {"mobile": mobile})


def grant(idapi, mobile: str, code: str, **extra):
    return idapi.client().post("/tokens", {"grant_type": "sms", "mobile": mobile, "code": code, **extra})


def lines(idapi, kind: str) -> list[SecurityEvent]:
    with idapi.p.sessions() as s:
        return list(s.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind).order_by(SecurityEvent.id)))


def test_sms_sign_in_journey(idapi, capsys):
    sent = ask(idapi, NEW_MOBILE)
    assert sent.status_code == 202, sent.json
    assert sent.json == {"mobile_masked": "139****0001", "expires_in": 300, "resend_after": 60}
    code = sent_code(capsys)
    wrong = grant(idapi, NEW_MOBILE, "000000" if code != "000000" else "111111")
    assert wrong.status_code == 401 and wrong.json["error"]["code"] == "invalid_sms_code"
    assert wrong.json["error"]["message"] == "验证码错误或已过期"
    right = grant(idapi, NEW_MOBILE, code)
    assert right.status_code == 201, right.json
    c = idapi.signed_in(right)
    me = c.get("/me").json
    assert [r["role"] for r in me["roles"]] == ["citizen"] and me["identity_bound"] is False
    assert c.get("/applications").status_code == 200 and c.get("/me/messages").status_code == 200
    again = grant(idapi, NEW_MOBILE, code)
    assert again.status_code == 401, "a code works once"
    # the security log has the send, the failure and the sign-in, as for the web
    assert lines(idapi, "sms_code_sent") and lines(idapi, "sign_in_failed")
    assert lines(idapi, "sign_in")[-1].detail == "sms"


def test_a_known_number_signs_in_to_its_account(idapi, capsys):
    assert ask(idapi, CHEN_MOBILE).status_code == 202
    response = grant(idapi, CHEN_MOBILE, sent_code(capsys))
    assert idapi.signed_in(response).get("/me").json["username"] == "mj-citizen-chen"


def test_a_code_alone_does_not_sign_in_staff(idapi, capsys, clock):
    assert ask(idapi, CLERK_MOBILE).status_code == 202
    refused = grant(idapi, CLERK_MOBILE, sent_code(capsys))
    assert refused.status_code == 401 and refused.json["error"]["code"] == "password_required"
    assert refused.json["error"]["message"] == "工作人员账号须同时输入密码和短信验证码登录"
    # password and code together, as on the web
    clock.advance(61)
    assert ask(idapi, CLERK_MOBILE).status_code == 202
    code = sent_code(capsys)
    wrong_password = grant(idapi, CLERK_MOBILE, code, password="Wrong-password-1")
    assert wrong_password.status_code == 401 and wrong_password.json["error"]["code"] == "password_required"
    clock.advance(61)
    assert ask(idapi, CLERK_MOBILE).status_code == 202
    ok = grant(idapi, CLERK_MOBILE, sent_code(capsys), password=demo_password("mj-community"))
    assert ok.status_code == 201, ok.json
    assert idapi.signed_in(ok).get("/me").json["username"] == "mj-community"


def test_codes_are_capped_per_number(idapi, capsys, clock):
    assert ask(idapi, NEW_MOBILE).status_code == 202
    soon = ask(idapi, NEW_MOBILE)
    assert soon.status_code == 429 and soon.json["error"]["code"] == "throttled"
    assert soon.json["error"]["message"] == "验证码已发送，请 60 秒后再试"
    for _ in range(4):  # five an hour
        clock.advance(61)
        assert ask(idapi, NEW_MOBILE).status_code == 202
    clock.advance(61)
    capped = ask(idapi, NEW_MOBILE)
    assert capped.status_code == 429
    assert capped.json["error"]["message"] == "获取验证码次数过多，请稍后再试或使用密码登录"
    clock.advance(3600)  # the next hour
    assert ask(idapi, NEW_MOBILE).status_code == 202


def test_codes_are_capped_per_address(idapi, clock):
    for n in range(5):
        clock.advance(61)
        assert ask(idapi, f"1391234100{n}").status_code == 202
    clock.advance(61)
    capped = ask(idapi, "13912341009")
    assert capped.status_code == 429 and "次数过多" in capped.json["error"]["message"]


def test_too_many_wrong_codes_pause_the_number(idapi, capsys):
    assert ask(idapi, NEW_MOBILE).status_code == 202
    code = sent_code(capsys)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert grant(idapi, NEW_MOBILE, wrong).status_code == 401
    paused = grant(idapi, NEW_MOBILE, code)
    assert paused.status_code == 429 and paused.json["error"]["code"] == "throttled"
    assert "锁定" in paused.json["error"]["message"]
    assert lines(idapi, "lockout")


def test_a_bad_mobile_number_is_named(idapi):
    for response in (ask(idapi, "12345"), grant(idapi, "12345", "123456")):
        assert response.status_code == 422
        assert response.json["error"]["fields"] == [{"pointer": "/mobile", "message": "手机号码格式不正确"}]
    missing = idapi.client().post("/tokens", {"grant_type": "sms"})
    assert {f["pointer"] for f in missing.json["error"]["fields"]} == {"/mobile", "/code"}
