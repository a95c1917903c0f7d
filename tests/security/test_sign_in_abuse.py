"""Issue 12 — authentication abuse: shared-address lockout, enumeration, proxies, SMS caps, passwords, argon2."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sec_support import TODAY  # noqa: F401 (the security suite's fixed day)

from formflow.auth import passwords, seclog
from formflow.db.models import SecurityEvent, utcnow
from support import WebClient, demo_password, make_web_app

LOCKED = "已被锁定"


def _login(c: WebClient, username: str, password: str, address: str = "127.0.0.1", **headers):
    return c.client.post("/auth/login", data={"username": username, "password": password, "csrf_token": c.csrf()},
                         environ_base={"REMOTE_ADDR": address}, headers=headers)


def _page(r) -> str:
    return r.get_data(as_text=True)


def test_one_address_locks_only_the_account_it_attacks(sec):
    c = sec.client()
    for _ in range(5):
        assert _login(c, "mj-citizen-chen", "Wrong-password-1").status_code == 401
    locked = _login(c, "mj-citizen-chen", demo_password("mj-citizen-chen"))
    assert locked.status_code == 401 and LOCKED in _page(locked)
    # positive control: another person behind the same address signs in
    assert _login(sec.client(), "mj-citizen-huang", demo_password("mj-citizen-huang")).status_code == 302
    # and the attacked account still signs in from its owner's own address
    assert _login(sec.client(), "mj-citizen-chen", demo_password("mj-citizen-chen"), "10.9.9.9").status_code == 302


def test_an_account_attacked_from_many_addresses_is_locked(sec):
    c = sec.client()
    for i in range(20):
        _login(c, "mj-citizen-huang", "Wrong-password-1", f"10.0.{i}.1")
    r = _login(c, "mj-citizen-huang", demo_password("mj-citizen-huang"), "10.200.0.1")
    assert r.status_code == 401 and LOCKED in _page(r)
    assert _login(c, "mj-citizen-chen", demo_password("mj-citizen-chen"), "10.200.0.1").status_code == 302


def test_unknown_and_known_accounts_get_the_same_answers(sec):
    c = sec.client()
    known = [_page(_login(c, "mj-citizen-chen", "Wrong-password-1", "10.1.1.1")) for _ in range(6)]
    unknown = [_page(_login(c, "no-such-person", "Wrong-password-1", "10.1.1.2")) for _ in range(6)]

    def message(page: str) -> str:
        return re.search(r'class="flash[^"]*"[^>]*>([^<]+)<', page).group(1).strip()

    assert [message(p) for p in known] == [message(p) for p in unknown]
    assert "账号或密码错误" in message(known[0]) and LOCKED in message(known[5])


def test_unknown_accounts_cost_one_argon2_check_like_known_ones(sec, monkeypatch):
    calls: list[str] = []
    real = passwords.HASHER.verify

    class Counting(type(passwords.HASHER)):
        def verify(self, stored, password):
            calls.append(stored[:9])
            return real(stored, password)

    monkeypatch.setattr(passwords, "HASHER", Counting())
    c = sec.client()
    _login(c, "mj-citizen-chen", "Wrong-password-1", "10.2.0.1")
    assert len(calls) == 1  # positive control: a known account is checked once
    _login(c, "no-such-person", "Wrong-password-1", "10.2.0.2")
    assert len(calls) == 2 and calls[1].startswith("$argon2id")


def _proxied_app(sec, monkeypatch, proxies: str | None):
    if proxies is None:
        monkeypatch.delenv("FORMFLOW_TRUSTED_PROXIES", raising=False)
    else:
        monkeypatch.setenv("FORMFLOW_TRUSTED_PROXIES", proxies)
    return WebClient(make_web_app(sec.p))


def test_forwarded_for_is_honoured_only_from_a_configured_proxy(sec, monkeypatch):
    trusted = _proxied_app(sec, monkeypatch, "1")
    for _ in range(5):
        _login(trusted, "mj-citizen-chen", "Wrong-password-1", X_Forwarded_For="203.0.113.7")
    r = _login(trusted, "mj-citizen-chen", demo_password("mj-citizen-chen"), X_Forwarded_For="203.0.113.7")
    assert r.status_code == 401 and LOCKED in _page(r)
    # the person at another address behind the same proxy is not locked out
    r = _login(trusted, "mj-citizen-chen", demo_password("mj-citizen-chen"), X_Forwarded_For="198.51.100.2")
    assert r.status_code == 302


def test_forwarded_for_is_ignored_without_a_configured_proxy(sec, monkeypatch):
    plain = _proxied_app(sec, monkeypatch, None)
    for i in range(5):  # an attacker rotating a forged header gets no fresh tries
        _login(plain, "mj-citizen-huang", "Wrong-password-1", X_Forwarded_For=f"203.0.113.{i}")
    r = _login(plain, "mj-citizen-huang", demo_password("mj-citizen-huang"), X_Forwarded_For="198.51.100.2")
    assert r.status_code == 401 and LOCKED in _page(r)


# ---------------------------------------------------------------- SMS codes

def _send(c: WebClient, mobile: str, address: str = "127.0.0.1"):
    return c.client.post("/auth/sms/send", data={"mobile": mobile, "csrf_token": c.csrf()},
                         environ_base={"REMOTE_ADDR": address})


def _sent_before(sec, mobile: str, address: str, ago: timedelta, n: int) -> None:
    keys = sec.p.keys
    with sec.p.sessions.begin() as s:
        for _ in range(n):
            s.add(SecurityEvent(kind=seclog.SMS_CODE_SENT, actor="", address=address, detail="",
                                subject=keys.lookup(mobile) if mobile else "x", at=utcnow() - ago))


def test_sms_codes_one_a_minute_per_number(sec):
    c = sec.client()
    assert "验证码已发送" in _page(_send(c, "13912340001", "10.3.0.1"))
    assert "60 秒" in _page(_send(c, "13912340001", "10.3.0.2"))


def test_sms_codes_five_an_hour_per_number(sec):
    _sent_before(sec, "13912340002", "10.4.0.9", timedelta(minutes=30), 5)
    c = sec.client()
    assert "验证码已发送" not in _page(_send(c, "13912340002", "10.4.0.1"))
    assert "验证码已发送" in _page(_send(c, "13912340003", "10.4.0.2"))  # positive control: another number


def test_sms_codes_ten_a_day_per_address(sec):
    _sent_before(sec, "", "10.5.0.1", timedelta(hours=5), 10)
    c = sec.client()
    assert "验证码已发送" not in _page(_send(c, "13912340004", "10.5.0.1"))
    assert "验证码已发送" in _page(_send(c, "13912340004", "10.5.0.2"))  # positive control: another address


def _code(capsys) -> str:
    return re.findall(r"验证码为 (\d{6})", capsys.readouterr().out)[-1]


def test_staff_need_password_and_code(sec, capsys):
    c = sec.client()
    _send(c, "13807530011", "10.6.0.1")  # mj-community's mobile
    alone = c.post("/auth/sms/login", {"mobile": "13807530011", "code": _code(capsys)})
    assert alone.status_code == 401 and "密码" in _page(alone)
    assert c.get("/desk/").status_code == 302


def test_staff_sign_in_with_password_and_code(sec, capsys):
    c = sec.client()
    _send(c, "13807530012", "10.7.0.1")  # mj-street's mobile
    both = c.post("/auth/sms/login", {"mobile": "13807530012", "code": _code(capsys),
                                      "password": demo_password("mj-street")})
    assert both.status_code == 302
    assert c.get("/desk/").status_code == 200


def test_citizens_still_sign_in_with_a_code_alone(sec, capsys):
    c = sec.client()
    _send(c, "13807530001", "10.8.0.1")  # mj-citizen-chen's mobile
    assert c.post("/auth/sms/login", {"mobile": "13807530001", "code": _code(capsys)}).status_code == 302


# ---------------------------------------------------------------- passwords

@pytest.mark.parametrize(("password", "words"), [
    ("Password2026!", "最常用"), ("Iloveyou-123", "最常用"), ("Xz-qwerty-77", "键盘"), ("Gh!123456789x", "键盘"),
    ("Abcdefg-2026", "键盘"), ("Kp-aaaa-2026X", "重复"),
])
def test_common_sequential_and_repeated_passwords_are_refused(password, words):
    assert any(words in p for p in passwords.policy_problems(password, "zhangsan"))


def test_a_strong_password_passes_and_the_list_has_ten_thousand():
    assert passwords.policy_problems("Correct-Horse-42", "zhangsan") == []
    assert passwords.policy_problems("Meiju-Lanterns-8x", "zhangsan") == []
    assert len(passwords.common_passwords()) >= 9900 and "password" in passwords.common_passwords()


def test_the_password_page_refuses_a_common_password_in_chinese(sec):
    c = sec.client("mj-citizen-huang")
    r = c.post("/auth/password", {"current": demo_password("mj-citizen-huang"), "new": "Password2026!",
                                  "confirm": "Password2026!"}, token_from="/auth/password")
    assert r.status_code == 400 and "最常用" in _page(r)


# ---------------------------------------------------------------- argon2 bound

def test_argon2_checks_are_bounded_per_process(monkeypatch):
    stored = passwords.hash_password("Correct-Horse-42")
    in_flight, peak, lock = [0], [0], threading.Lock()
    real = passwords.HASHER.verify

    class Watching(type(passwords.HASHER)):
        def verify(self, h, p):
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            try:
                return real(h, p)
            finally:
                with lock:
                    in_flight[0] -= 1

    monkeypatch.setattr(passwords, "HASHER", Watching())
    passwords.set_concurrency(2)
    try:
        threads = [threading.Thread(target=passwords.verify_password, args=(stored, "x")) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert peak[0] == 2 or peak[0] == 1
        assert peak[0] <= 2
    finally:
        passwords.set_concurrency(passwords.DEFAULT_CONCURRENCY)


def test_argon2_bound_lets_the_configured_number_run_together(monkeypatch):
    """Positive control: with room for 4, four checks do run at once (they meet at a barrier)."""
    barrier = threading.Barrier(4, timeout=60)
    met = []

    class Meeting(type(passwords.HASHER)):
        def verify(self, h, p):
            barrier.wait()
            met.append(1)
            return False

    monkeypatch.setattr(passwords, "HASHER", Meeting())
    passwords.set_concurrency(4)
    try:
        threads = [threading.Thread(target=passwords.verify_password, args=("$argon2id$x", "x")) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(met) == 4
    finally:
        passwords.set_concurrency(passwords.DEFAULT_CONCURRENCY)


def test_argon2_concurrency_is_a_setting_defaulting_to_one(sec, monkeypatch):
    from formflow.config import Settings

    assert Settings().argon2_concurrency == 1 == passwords.DEFAULT_CONCURRENCY
    monkeypatch.setenv("FORMFLOW_ARGON2_CONCURRENCY", "3")
    make_web_app(sec.p)
    try:
        assert passwords.concurrency() == 3
    finally:
        passwords.set_concurrency(passwords.DEFAULT_CONCURRENCY)
