"""Signing in by password and SMS code, rate limits, identity verification."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from formflow.auth.passwords import policy_problems


def citizen_of(pack: str) -> str:
    root = Path(__file__).resolve().parents[2]
    demo = yaml.safe_load((root / "seeds" / pack / "demo.yaml").read_text(encoding="utf-8"))
    return next(a for a in demo["accounts"] if [r["role"] for r in a["roles"]] == ["citizen"])


def test_password_sign_in_and_out(web):
    account = citizen_of("meizhou-meijiang")
    response = web.login(account["username"], account["password"])
    assert response.status_code == 302
    page = web.get("/").get_data(as_text=True)
    assert 'action="/auth/logout"' in page
    web.post("/auth/logout", token_from="/")
    page = web.get("/").get_data(as_text=True)
    assert "您已安全退出" in page and 'action="/auth/logout"' not in page


def test_wrong_password_is_refused_with_a_message(web):
    response = web.login(citizen_of("jiangxi")["username"], "Wrong-password-1")
    assert response.status_code == 401
    assert "账号或密码错误" in response.get_data(as_text=True)


def test_five_failures_lock_the_account(web):
    account = citizen_of("jiangxi")
    for _ in range(5):
        web.login(account["username"], "Wrong-password-1")
    response = web.login(account["username"], account["password"])
    assert response.status_code == 401
    assert "已被锁定" in response.get_data(as_text=True)


def test_many_failures_from_one_address_do_not_block_other_accounts(web):
    """Behind a reverse proxy everyone shares one address: failures of other names never block an account
    (issue 12; they are throttled per account and per (account, address) instead)."""
    for i in range(20):
        web.login(f"nobody{i}", "Wrong-password-1")
    account = citizen_of("meizhou-meijiang")
    response = web.login(account["username"], account["password"])
    assert response.status_code == 302


def test_post_without_csrf_token_is_refused(web):
    account = citizen_of("meizhou-meijiang")
    response = web.client.post("/auth/login", data={"username": account["username"], "password": account["password"]})
    assert response.status_code == 400


def test_sms_code_sign_in(web, capsys):
    web.post("/auth/sms/send", {"mobile": "13912345678"})
    code = re.search(r"验证码为 (\d{6})", capsys.readouterr().out).group(1)
    wrong = web.post("/auth/sms/login", {"mobile": "13912345678", "code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 401
    right = web.post("/auth/sms/login", {"mobile": "13912345678", "code": code})
    assert right.status_code == 302
    again = web.post("/auth/sms/login", {"mobile": "13912345678", "code": code})
    assert again.status_code == 401, "a code works once"


def test_bad_mobile_number_named(web):
    response = web.post("/auth/sms/send", {"mobile": "12345"})
    assert response.status_code == 400
    assert "手机号码格式不正确" in response.get_data(as_text=True)


def test_identity_verification_binds_the_verified_person(web):
    account = citizen_of("meizhou-meijiang")
    web.login(account["username"], account["password"])
    bad = web.post("/auth/verify", {"name": "不是我", "id_number": account["id_number"], "consent": "yes"},
                   token_from="/auth/verify")
    assert bad.status_code == 400 and "不匹配" in bad.get_data(as_text=True)
    good = web.post("/auth/verify?next=/", {"name": account["name"], "id_number": account["id_number"],
                                            "consent": "yes"}, token_from="/auth/verify")
    assert good.status_code == 302


def test_declining_consent_ends_politely(web):
    account = citizen_of("meizhou-meijiang")
    web.login(account["username"], account["password"])
    response = web.post("/auth/verify", {"consent": "no"}, token_from="/auth/verify")
    assert response.status_code == 302
    assert "取消授权" in web.get("/").get_data(as_text=True)


def test_open_redirect_is_not_followed(web):
    account = citizen_of("meizhou-meijiang")
    response = web.client.post(
        "/auth/login?next=https://evil.example/", data={
            "username": account["username"], "password": account["password"], "csrf_token": web.csrf()},
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


@pytest.mark.parametrize(
    ("password", "problem"),
    [("Short1!", "至少 10 位"), ("alllowercaseletters", "至少三类"), ("Zhangsan-2026x", "账号名")],
)
def test_password_policy(password, problem):
    assert any(problem in p for p in policy_problems(password, "zhangsan"))


def test_good_password_passes_policy():
    assert policy_problems("Correct-Horse-42", "zhangsan") == []


def test_security_headers(web):
    response = web.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_changing_the_password_ends_other_sessions(web):
    account = citizen_of("jiangxi")
    other_device = web.app.test_client()
    from support import WebClient

    other = WebClient(web.app)
    other.client = other_device
    other.login(account["username"], account["password"])
    assert 'action="/auth/logout"' in other.get("/").get_data(as_text=True)

    web.login(account["username"], account["password"])
    weak = web.post("/auth/password", {"current": account["password"], "new": "short", "confirm": "short"},
                    token_from="/auth/password")
    assert weak.status_code == 400 and "至少 10 位" in weak.get_data(as_text=True)
    wrong = web.post("/auth/password", {"current": "Not-the-password-1", "new": "New-Password-2027",
                                        "confirm": "New-Password-2027"}, token_from="/auth/password")
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.get_data(as_text=True)
    done = web.post("/auth/password", {"current": account["password"], "new": "New-Password-2027",
                                       "confirm": "New-Password-2027"}, token_from="/auth/password")
    assert done.status_code == 302
    assert 'action="/auth/logout"' in web.get("/").get_data(as_text=True), "this session goes on"
    assert 'action="/auth/logout"' not in other.get("/").get_data(as_text=True), "the other device is signed out"
    assert web.login(account["username"], "New-Password-2027").status_code == 302


def test_verification_names_what_is_wrong_with_the_id_number(web):
    account = citizen_of("meizhou-meijiang")
    web.login(account["username"], account["password"])
    number = account["id_number"]
    wrong_digit = number[:-1] + ("0" if number[-1] != "0" else "1")
    response = web.post("/auth/verify", {"name": account["name"], "id_number": wrong_digit, "consent": "yes"},
                        token_from="/auth/verify")
    assert response.status_code == 400 and "校验位不正确" in response.get_data(as_text=True)
