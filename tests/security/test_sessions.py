"""Issue 7 — session rules and security headers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner
from sec_support import MZ, TODAY, create

from support import WebClient, make_web_app

LOGIN_REQUIRED = "/portal/my"


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[-1]


def test_idle_sessions_end_after_30_minutes(sec):
    assert sec.app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=30)
    assert sec.app.config["SESSION_REFRESH_EACH_REQUEST"] is True
    c = sec.client()
    r = c.login("mj-citizen-chen")
    cookie = _session_cookie(r)
    assert "Expires=" in cookie  # permanent: the browser forgets it after 30 idle minutes
    assert c.get(LOGIN_REQUIRED).status_code == 200


@pytest.mark.parametrize(("idle_minutes", "signed_in"), [(29, True), (31, False)])
def test_a_cookie_idle_for_longer_than_30_minutes_is_rejected(sec, monkeypatch, idle_minutes, signed_in):
    """The server checks the cookie's signed timestamp: a stolen or kept cookie is useless after 30 minutes."""
    c = sec.client("mj-citizen-chen")
    assert c.get(LOGIN_REQUIRED).status_code == 200
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + idle_minutes * 60)
    r = c.get(LOGIN_REQUIRED)
    if signed_in:
        assert r.status_code == 200
    else:
        assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_no_remember_me_cookie_outlives_the_session(sec):
    r = sec.client().login("mj-citizen-chen")
    assert not any(c.startswith("remember_token=") for c in r.headers.getlist("Set-Cookie"))


def test_session_cookie_is_httponly_and_samesite_lax(sec):
    cookie = _session_cookie(sec.client().login("mj-citizen-chen"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the embedded default serves plain http on localhost


def test_session_cookie_is_secure_when_configured(sqlite_platform, monkeypatch):
    monkeypatch.setenv("FORMFLOW_SECURE_COOKIES", "1")
    app = make_web_app(sqlite_platform)
    c = WebClient(app)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    r = c.client.get("/auth/login", base_url="https://localhost")
    cookie = _session_cookie(r)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def _pages(sec):
    app_id = create(sec.p, MZ, today=TODAY, with_file=True)
    from formflow.db.models import Application

    with sec.p.sessions() as s:
        sha = s.get(Application, app_id).data["materials"]["id_card"][0]["sha256"]
    return [
        ("public", None, "/"),
        ("sign-in", None, "/auth/login"),
        ("portal", "mj-citizen-chen", f"/portal/applications/{app_id}"),
        ("portal-file", "mj-citizen-chen", f"/portal/applications/{app_id}/files/{sha}"),
        ("desk", "mj-community", f"/desk/applications/{app_id}"),
        ("desk-file", "mj-community", f"/desk/applications/{app_id}/files/{sha}"),
        ("admin", "mj-configurator", "/admin/"),
        ("not-found", "mj-citizen-chen", "/portal/applications/999999"),
    ]


def test_security_headers_on_every_page_type(sec):
    for kind, who, url in _pages(sec):
        r = sec.client(who).get(url)
        assert r.status_code in (200, 404), (kind, r.status_code)
        h = r.headers
        assert h.get("X-Content-Type-Options") == "nosniff", kind
        assert "Content-Security-Policy" in h, kind
        assert "default-src" in h["Content-Security-Policy"], kind
        assert h.get("X-Frame-Options") in ("DENY", "SAMEORIGIN"), kind
        if not kind.endswith("file"):
            assert "frame-ancestors 'none'" in h["Content-Security-Policy"], kind
            assert h.get("Referrer-Policy") == "strict-origin-when-cross-origin", kind


def test_security_headers_on_api_json(sec):
    from api_support import Client

    api = Client(sec.app)
    api.sign_in("mj-citizen-chen")
    for path in ("/me", "/applications", "/applications/999999"):
        r = api.get(path)
        assert r.mimetype == "application/json"
        assert r.headers.get("X-Content-Type-Options") == "nosniff"
        assert "Content-Security-Policy" in r.headers
        assert r.headers.get("Cache-Control") == "no-store"
        assert "Set-Cookie" not in r.headers
