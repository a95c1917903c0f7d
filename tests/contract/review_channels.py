"""The reviewing use cases as each channel offers them: the desk (HTML forms) and the JSON API.

Each adapter does what a person (or a client program) does on that channel and
reads back what they are shown, in one shape (`Outcome`), so a contract test
can assert that every channel gives the same answer. Portal and window do not
offer reviewing.
"""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
for folder in ("api", "desk"):
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))

import desk_support  # noqa: E402
from api_support import Api  # noqa: E402

from formflow.text.formatting import local_time  # noqa: E402
from support import WebClient  # noqa: E402


@dataclass(frozen=True)
class Outcome:
    """What a person is told: done (with what they read), or refused with a code, a message and fields."""

    ok: bool
    code: str | None = None
    message: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    data: Any = None


@dataclass(frozen=True)
class QueueLine:
    id: int
    number: str
    applicant: str
    id_masked: str
    category: str
    channel: str
    stages: str
    office: str
    submitted: str
    deadline: str
    overdue: bool


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


# --------------------------------------------------------------------------- desk


class DeskChannel:
    name = "desk"

    def __init__(self, app, platform) -> None:
        self.app = app
        self.platform = platform
        self._clients: dict[str, WebClient] = {}

    def _client(self, username: str) -> WebClient:
        if username not in self._clients:
            client = WebClient(self.app)
            assert client.login(username).status_code == 302, username
            self._clients[username] = client
        return self._clients[username]

    @staticmethod
    def _refused(response, stage: str | None = None) -> Outcome:
        page = response.get_data(as_text=True)
        message = None
        for pattern in (r'id="stale-message">(.*?)</div>', r'class="flash flash-error" role="status">(.*?)</p>',
                        r'class="error" id="reason-[^"]*-error">(.*?)</p>',
                        r'class="error" id="objection-note-[^"]*-error">(.*?)</p>',
                        r'<section class="error" role="alert"><h1>.*?</h1><p>(.*?)</p>'):
            found = re.search(pattern, page, re.S)
            if found:
                message = _text(found.group(1))
                break
        fields: dict[str, str] = {}
        for text in re.findall(r'class="error" id="(?:reason|objection-note)-[^"]*-error">(.*?)</p>', page, re.S):
            fields["/note"] = _text(text)
        if stage:
            for row, ci, text in re.findall(rf'id="m-{stage}-r([^"-]+)-c(\d+)-error">(.*?)</span>', page, re.S):
                fields[f"/rows/{row}/criteria/{ci}"] = _text(text)
            for row, text in re.findall(rf'id="m-{stage}-r([^"-]+)-note-error">(.*?)</p>', page, re.S):
                fields[f"/rows/{row}/note"] = _text(text)
        return Outcome(False, response.headers.get("X-Refusal-Code"), message, fields,
                       data={"status": response.status_code})

    def queue(self, username: str, **filters: str) -> list[QueueLine]:
        page = self._client(username).get("/desk/", query_string=filters).get_data(as_text=True)
        lines = []
        for app_id, row in re.findall(r'<tr id="queue-row-(\d+)"[^>]*>(.*?)</tr>', page, re.S):
            cells = dict(re.findall(r'<td data-label="([^"]+)">(.*?)</td>', row, re.S))
            values = list(cells.values())
            who = re.match(r"<span>(.*?)(?:<br><span class=\"hint\">(.*?)</span>)?</span>$", values[1].strip(), re.S)
            what = re.match(r"<span>(.*?)(?:<br><span class=\"hint\">(.*?)</span>)?</span>$", values[2].strip(), re.S)
            lines.append(QueueLine(
                id=int(app_id), number=_text(values[0]), applicant=_text(who.group(1)),
                id_masked=_text(who.group(2) or ""), category=_text(what.group(1)), channel=_text(what.group(2) or ""),
                stages=_text(values[3]), office=_text(values[4]), submitted=_text(values[5]),
                deadline=_text(values[6]), overdue="badge-bad" in values[7],
            ))
        return lines

    def mark(self, username: str, app_id: int, stage: str, marking: dict[str, Any]) -> Outcome:
        fields: dict[str, str] = {}
        for no, entry in (marking.get("rows") or {}).items():
            for i, verdict in enumerate(entry.get("criteria") or []):
                if verdict:
                    fields[f"r{no}.c{i}"] = verdict
            if entry.get("note"):
                fields[f"r{no}.note"] = entry["note"]
        client = self._client(username)
        response = client.post(f"/desk/applications/{app_id}/stages/{stage}/marking", fields,
                               token_from=f"/desk/applications/{app_id}")
        if response.status_code != 302:
            return self._refused(response, stage)
        return Outcome(True)

    def act(self, username: str, app_id: int, stage: str, action: str, *, version: int,
            note: str | None = None) -> Outcome:
        data = {"stage": stage, "action": action, "expected_version": str(version), "confirmed": "1"}
        if note is not None:
            data["note"] = note
        client = self._client(username)
        response = client.post(f"/desk/applications/{app_id}/act", data, token_from="/desk/")
        if response.status_code != 302:
            return self._refused(response)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        done = _text(re.search(r'class="flash flash-info" role="status">(.*?)</p>', page, re.S).group(1))
        return Outcome(True, data=re.search(r"(?:当前环节|已办结)：([^。]*)", done).group(1))


# --------------------------------------------------------------------------- API


class ApiChannel:
    name = "api"

    def __init__(self, api: Api) -> None:
        self.api = api
        self.platform = api.p
        self._clients: dict[str, Any] = {}

    def _client(self, username: str):
        if username not in self._clients:
            self._clients[username] = self.api.client(username)
        return self._clients[username]

    @staticmethod
    def _refused(response, prefix: str = "") -> Outcome:
        error = response.json["error"]
        fields = {f["pointer"][len(prefix):] if f["pointer"].startswith(prefix) else f["pointer"]: f["message"]
                  for f in error.get("fields") or []}
        return Outcome(False, error["code"], error["message"], fields, data={"status": response.status_code})

    def queue(self, username: str, **filters: str) -> list[QueueLine]:
        items = self._client(username).get("/review/queue", query_string=filters).json["items"]
        return [QueueLine(
            id=i["id"], number=i["number"], applicant=i["applicant"], id_masked=i["id_number_masked"],
            category=i["category_title"], channel=i["channel_title"],
            stages="、".join(s["title"] for s in i["stages"]), office=(i["office"] or {}).get("name", ""),
            submitted=local_time(datetime.fromisoformat(i["submitted_at"])) if i["submitted_at"] else "",
            deadline=i["deadline"] or "—", overdue=i["overdue"],
        ) for i in items]

    def mark(self, username: str, app_id: int, stage: str, marking: dict[str, Any]) -> Outcome:
        response = self._client(username).put(f"/review/applications/{app_id}/stages/{stage}/marking",
                                              {"marking": marking})
        if response.status_code != 200:
            return self._refused(response, "/marking")
        return Outcome(True)

    def act(self, username: str, app_id: int, stage: str, action: str, *, version: int,
            note: str | None = None) -> Outcome:
        body: dict[str, Any] = {"stage": stage, "action": action, "version": version}
        if note is not None:
            body["note"] = note
        response = self._client(username).post(f"/review/applications/{app_id}/actions", body)
        if response.status_code != 200:
            return self._refused(response)
        return Outcome(True, data="、".join(s["title"] for s in response.json["stages"]))


CHANNELS = ("desk", "api")


def channel(name: str, api: Api):
    """The adapter of channel `name` over one app (the API's app serves the desk too)."""
    return DeskChannel(api.app, api.p) if name == "desk" else ApiChannel(api)


__all__ = ["CHANNELS", "Api", "ApiChannel", "DeskChannel", "Outcome", "QueueLine", "channel", "desk_support"]
