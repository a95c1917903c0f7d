"""API test support: an app with the API registered, and a client that signs in for a bearer token."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from support import demo_password, make_web_app


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


#: A small valid PNG.
PNG = _png()
PREFIX = "/api/v1"


def api_app(platform):
    """The web app; the API blueprint is registered here until app.BLUEPRINTS lists it."""
    app = make_web_app(platform)
    if "api" not in app.blueprints:  # pragma: no cover - app.BLUEPRINTS lists it now
        from formflow.web import api as api_module

        api_module.init_app(app)
        app.register_blueprint(api_module.bp)
    return app


class Api:
    """One app (today fixed, settable) and JSON clients signed in with bearer tokens."""

    def __init__(self, platform, today: date) -> None:
        self.p = platform
        self.app = api_app(platform)
        self.today = today
        self.app.extensions["formflow.services"].clock.fixed_today = lambda: self.today

    def client(self, username: str | None = None) -> Client:
        c = Client(self.app)
        if username:
            c.sign_in(username)
        return c


class Client:
    def __init__(self, app) -> None:
        self.app = app
        self.http = app.test_client(use_cookies=False)
        self.access: str | None = None
        self.refresh: str | None = None

    def sign_in(self, username: str, password: str | None = None):
        r = self.post("/tokens", {"username": username, "password": password or demo_password(username)})
        assert r.status_code == 201, r.get_data(as_text=True)
        self.access, self.refresh = r.json["access_token"], r.json["refresh_token"]
        return r

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if self.access and "Authorization" not in out:
            out["Authorization"] = f"Bearer {self.access}"
        return out

    def get(self, path: str, headers: dict[str, str] | None = None, **kw):
        return self.http.get(PREFIX + path, headers=self._headers(headers), **kw)

    def send(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, **kw):
        if body is not None and "data" not in kw:
            kw["data"] = json.dumps(body, ensure_ascii=False)
            kw.setdefault("content_type", "application/json")
        return self.http.open(PREFIX + path, method=method, headers=self._headers(headers), **kw)

    def post(self, path: str, body: Any = None, **kw):
        return self.send("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw):
        return self.send("PUT", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw):
        return self.send("PATCH", path, body, **kw)
