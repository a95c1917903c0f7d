"""The reviewer's side as each channel shows it, in a chosen language: the desk (HTML) and the JSON API.

Built on `review_channels` (same clients, same `Outcome`); these adapters add the
`Accept-Language` a person's browser or a client program sends, and read the
reasons the engine gives for actions that cannot be taken now.
"""

from __future__ import annotations

import re
from typing import Any

from .review_channels import Api, ApiChannel, DeskChannel, Outcome, _text

LANGUAGES = {"zh": {"Accept-Language": "zh-CN"}, "en": {"Accept-Language": "en"}}


class DeskIn(DeskChannel):
    """The desk with a browser asking for `language`."""

    def __init__(self, api: Api, language: str) -> None:
        super().__init__(api.app, api.p)
        self.headers = LANGUAGES[language]

    def offered(self, username: str, app_id: int) -> dict[tuple[str, str], str | None]:
        """(stage, action) → why it cannot be taken now (None when it can), as the page shows it."""
        page = self._client(username).get(f"/desk/applications/{app_id}", headers=self.headers).get_data(as_text=True)
        out: dict[tuple[str, str], str | None] = {}
        for stage, action, form in re.findall(
                r'<form [^>]*class="action-form[^"]*" id="action-([a-z0-9_]+)-([a-z0-9_]+)">(.*?)</form>', page, re.S):
            why = re.search(r'class="why-not hint" id="why-[^"]+">(.*?)</span>', form, re.S)
            out[(stage, action)] = _text(why.group(1)) if why else None
        return out

    def act(self, username: str, app_id: int, stage: str, action: str, *, version: int,
            note: str | None = None) -> Outcome:
        data = {"stage": stage, "action": action, "expected_version": str(version), "confirmed": "1"}
        if note is not None:
            data["note"] = note
        response = self._client(username).post(f"/desk/applications/{app_id}/act", data, token_from="/desk/",
                                               headers=self.headers)
        if response.status_code != 302:
            return self._refused(response)
        return Outcome(True)


class ApiIn(ApiChannel):
    """The API with a client sending `Accept-Language: <language>`."""

    def __init__(self, api: Api, language: str) -> None:
        super().__init__(api)
        self.headers = LANGUAGES[language]

    def offered(self, username: str, app_id: int) -> dict[tuple[str, str], str | None]:
        found = self._client(username).get(f"/review/applications/{app_id}/actions", headers=self.headers).json
        return {(a["stage"], a["action"]): (None if a["allowed"] else a["why_not"]) for a in found["actions"]}

    def act(self, username: str, app_id: int, stage: str, action: str, *, version: int,
            note: str | None = None) -> Outcome:
        body: dict[str, Any] = {"stage": stage, "action": action, "version": version}
        if note is not None:
            body["note"] = note
        response = self._client(username).post(f"/review/applications/{app_id}/actions", body, headers=self.headers)
        if response.status_code != 200:
            return self._refused(response)
        return Outcome(True)


CHANNELS = ("desk", "api")


def channel(name: str, api: Api, language: str):
    return DeskIn(api, language) if name == "desk" else ApiIn(api, language)


__all__ = ["CHANNELS", "LANGUAGES", "ApiIn", "DeskIn", "channel"]
