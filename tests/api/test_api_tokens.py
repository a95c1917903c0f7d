"""Bearer tokens: sign-in with the web's throttle, refresh rotation, reuse detection, logout, epoch."""

from __future__ import annotations

from api_support import Client
from sqlalchemy import select

from formflow.db.models import Account, ApiRefreshToken
from support import demo_password

USER = "mj-citizen-huang"


def test_sign_in_refresh_rotates_and_old_token_is_dead(api):
    c = api.client(USER)
    assert c.get("/me").json["username"] == USER
    first_refresh = c.refresh
    r = c.post("/tokens/refresh", {"refresh_token": first_refresh}, headers={"Authorization": ""})
    assert r.status_code == 201
    assert r.json["refresh_token"] != first_refresh and r.json["expires_in"] == 900
    new_access, new_refresh = r.json["access_token"], r.json["refresh_token"]
    assert c.get("/me", headers={"Authorization": f"Bearer {new_access}"}).status_code == 200
    # the refresh token is stored only as its hash
    with api.p.sessions() as s:
        stored = set(s.scalars(select(ApiRefreshToken.token_hash)))
    assert first_refresh not in stored and new_refresh not in stored
    # presenting a used refresh token again: assumed stolen, the whole sign-in ends
    replay = c.post("/tokens/refresh", {"refresh_token": first_refresh})
    assert replay.status_code == 401 and replay.json["error"]["code"] == "invalid_refresh_token"
    assert c.post("/tokens/refresh", {"refresh_token": new_refresh}).status_code == 401
    assert c.get("/me", headers={"Authorization": f"Bearer {new_access}"}).status_code == 401


def test_logout_revokes_refresh_and_access(api):
    c = api.client(USER)
    assert c.post("/tokens/revoke", {"refresh_token": c.refresh}).status_code == 204
    assert c.get("/me").status_code == 401
    assert c.post("/tokens/refresh", {"refresh_token": c.refresh}).status_code == 401
    # another sign-in of the same account is unaffected by this logout
    other = api.client(USER)
    assert other.get("/me").status_code == 200


def test_password_change_ends_every_token(api):
    c = api.client(USER)
    with api.p.sessions.begin() as s:
        account = s.scalar(select(Account).where(Account.username == USER))
        account.session_epoch = (account.session_epoch or 0) + 1
    r = c.get("/me")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert c.post("/tokens/refresh", {"refresh_token": c.refresh}).status_code == 401


def test_wrong_password_is_throttled_like_the_web(api):
    c = api.client()
    for _ in range(5):
        r = c.post("/tokens", {"username": USER, "password": "wrong-Password-1"})
        assert r.status_code == 401 and r.json["error"]["code"] == "invalid_credentials"
    r = c.post("/tokens", {"username": USER, "password": demo_password(USER)})
    assert r.status_code == 429 and "锁定" in r.json["error"]["message"]


def test_bad_and_missing_tokens(api):
    c = api.client()
    assert c.get("/me").status_code == 401
    assert c.get("/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert c.get("/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert c.post("/tokens/refresh", {"refresh_token": "ffr_nonsense"}).status_code == 401
    signed = api.client(USER)
    forged = signed.access[:-2] + ("AA" if not signed.access.endswith("AA") else "BB")
    assert c.get("/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_api_sets_no_cookie_and_needs_no_csrf(api):
    c = Client(api.app)
    r = c.post("/tokens", {"username": USER, "password": demo_password(USER)})
    assert r.status_code == 201
    assert "Set-Cookie" not in r.headers
    c.access = r.json["access_token"]
    for response in (c.get("/me"), c.get("/matters"), c.post("/tokens/refresh", {"refresh_token": "x"})):
        assert "Set-Cookie" not in response.headers
        assert response.headers["Cache-Control"] == "no-store"
