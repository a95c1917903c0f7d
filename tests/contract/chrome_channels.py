"""Channel adapters for the chrome contract: signing in by password on the web (portal, window, desk) and the API."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from support import WebClient, make_web_app

FLASH = re.compile(r'<p class="flash flash-(\w+)"[^>]*>(.*?)</p>', re.S)


@dataclass(frozen=True)
class Outcome:
    refused: bool
    message: str
    code: str | None = None


class WebSignIn:
    """The one sign-in page every web channel uses (the portal's citizen, the window clerk, the reviewer)."""

    def __init__(self, platform, username: str) -> None:
        self.web = WebClient(make_web_app(platform))
        self.username = username

    def sign_in(self, password: str, headers: dict[str, str]) -> Outcome:
        response = self.web.client.post("/auth/login", headers=headers, data={
            "username": self.username, "password": password, "csrf_token": self.web.csrf()})
        if response.status_code == 302:
            return Outcome(False, "")
        errors = [html.unescape(m) for kind, m in FLASH.findall(response.get_data(as_text=True)) if kind == "error"]
        return Outcome(True, errors[0] if errors else "")


class ApiSignIn:
    def __init__(self, platform, username: str) -> None:
        self.http = make_web_app(platform).test_client(use_cookies=False)
        self.username = username

    def sign_in(self, password: str, headers: dict[str, str]) -> Outcome:
        response = self.http.post("/api/v1/tokens", headers=headers,
                                  json={"username": self.username, "password": password})
        if response.status_code == 201:
            return Outcome(False, "")
        error = response.json["error"]
        return Outcome(True, error["message"], error["code"])


#: channel → (adapter, demo account signing in there)
CHANNELS = {
    "portal": (WebSignIn, "mj-citizen-chen"),
    "window": (WebSignIn, "jx-window-clerk"),
    "desk": (WebSignIn, "mj-street"),
    "api": (ApiSignIn, "jx-citizen-liqiang"),
}


def channel(name: str, platform):
    adapter, username = CHANNELS[name]
    return adapter(platform, username)
