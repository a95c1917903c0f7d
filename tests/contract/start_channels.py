"""Channel adapters for the START contract: each channel starts an application and saves a step its own way
(portal pages, the service-hall window, the JSON API) and reports the outcome in one shape."""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_API = str(Path(__file__).resolve().parents[1] / "api")
if _API not in sys.path:
    sys.path.append(_API)

from api_support import Api  # noqa: E402
from sqlalchemy import select  # noqa: E402

from formflow.db.models import AccessRecord, Account, Application  # noqa: E402
from support import WebClient  # noqa: E402

#: Demo citizens: (username, name, ID number) by pack.
CITIZENS = {
    "jiangxi": ("jx-citizen-wangfang", "王芳", "36010219950410004X"),
    "meizhou-meijiang": ("mj-citizen-chen", "陈志强", "441402198803150314"),
}
CLERKS = {"jiangxi": "jx-window-clerk", "meizhou-meijiang": "mj-window"}
MATTER = "public-rental-housing"


@dataclass
class Outcome:
    """What a person (or program) learns: accepted or refused, with the refusal's code and message."""

    ok: bool
    code: str | None = None
    message: str | None = None
    pointers: list[str] = field(default_factory=list)
    app_id: int | None = None


def _csrf(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def _refusal_of_page(response) -> Outcome:
    """A refused page: the code in its header, the message in the refusal box or the error flash."""
    body = response.get_data(as_text=True)
    box = re.search(r'id="refusal"[^>]*>(.*?)</(?:div|p)>', body, re.S)
    text = box.group(1) if box else ""
    if not box:
        flashed = re.search(r'<p class="flash flash-error"[^>]*>(.*?)</p>', body, re.S)
        text = flashed.group(1) if flashed else ""
    item = re.search(r"<li[^>]*>(.*?)</li>", text, re.S)
    message = html.unescape(re.sub(r"<[^>]+>", "", item.group(1) if item else text)).strip()
    anchors = re.findall(r'<a href="#(f-[^"]+)"', body)
    return Outcome(False, response.headers.get("X-Refusal-Code"), message, anchors)


def node_id(pointer: str) -> str:
    """The field id the portal gives the field at `pointer` (as `Node.id`)."""
    return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", "-".join(p for p in pointer.split("/")[1:]))


class Env:
    """One platform: a web app (portal, window) and an API app over the same database."""

    def __init__(self, platform, web_app) -> None:
        from datetime import date

        self.p = platform
        self.web_app = web_app
        self.api = Api(platform, date(2026, 3, 2))

    def web(self, username: str, *, verify: tuple[str, str] | None = None) -> WebClient:
        c = WebClient(self.web_app)
        assert c.login(username).status_code == 302
        if verify:
            r = c.client.post("/auth/verify?next=/portal/", data={
                "consent": "yes", "name": verify[0], "id_number": verify[1], "csrf_token": _csrf(c, "/auth/verify")})
            assert r.status_code == 302, r.get_data(as_text=True)[:1000]
        return c

    def app(self, app_id: int) -> Application:
        with self.p.sessions() as s:
            return s.get(Application, app_id)

    def access(self, app_id: int) -> list[tuple[str, str]]:
        """(what, who: applicant | clerk | other) of each access record of the application."""
        with self.p.sessions() as s:
            app = s.get(Application, app_id)
            rows = s.scalars(select(AccessRecord).where(AccessRecord.application_id == app_id)
                             .order_by(AccessRecord.id))
            return [(r.what, "applicant" if r.account_id == app.applicant_id
                     else "clerk" if r.account_id == app.assisted_by_id else "other") for r in rows]

    def account_id(self, username: str) -> int:
        with self.p.sessions() as s:
            return s.scalar(select(Account.id).where(Account.username == username))


# --------------------------------------------------------------------------- starting


class Portal:
    name = "portal"

    def start(self, env: Env, pack: str, office: str) -> Outcome:
        user, name, number = CITIZENS[pack]
        web = env.web(user, verify=(name, number))
        base = f"/portal/{pack}/{MATTER}"
        r = web.client.post(base + "/consent", data={"decision": "accept", "csrf_token": _csrf(web, base + "/consent")})
        assert r.status_code == 302
        with web.client.session_transaction() as sess:  # the region page's confirmed choice
            sess["portal_region"] = {"pack": pack, "matter": MATTER, "office": office}
        r = web.get(base + "/begin")
        if r.status_code == 302 and "/step/" in r.headers["Location"]:
            self.client = web
            return Outcome(True, app_id=int(re.search(r"/applications/(\d+)/", r.headers["Location"]).group(1)))
        return _refusal_of_page(r)


class Window:
    name = "window"

    def start(self, env: Env, pack: str, office: str) -> Outcome:
        _user, name, number = CITIZENS[pack]
        web = env.web(CLERKS[pack])
        r = web.client.post("/portal/window", data={
            "matter": f"{pack}/{MATTER}", "office": office, "name": name, "id_number": number, "consent": "yes",
            "csrf_token": _csrf(web, "/portal/window")})
        if r.status_code == 302:
            self.client = web
            self.page = web.get(r.headers["Location"]).get_data(as_text=True)
            return Outcome(True, app_id=int(re.search(r"started=(\d+)", r.headers["Location"]).group(1)))
        return _refusal_of_page(r)


class ApiChannel:
    name = "api"

    def start(self, env: Env, pack: str, office: str) -> Outcome:
        user, _name, _number = CITIZENS[pack]
        c = env.api.client(user)
        assert c.post(f"/matters/{pack}/{MATTER}/consent", {"accepted": True}).status_code == 201
        r = c.post("/drafts", {"pack": pack, "matter": MATTER, "office_id": office})
        self.client = c
        if r.status_code in (200, 201):
            return Outcome(True, app_id=r.json["id"])
        return _api_refusal(r)


def _api_refusal(r) -> Outcome:
    error = r.json["error"]
    return Outcome(False, error["code"], error["message"], [f["pointer"] for f in error["fields"]])


START_CHANNELS = [Portal, Window, ApiChannel]


# --------------------------------------------------------------------------- saving a step


class PortalSave:
    """The citizen (or, at the window, the clerk) posts the step form."""

    name = "portal"
    starter = Portal

    def save(self, env: Env, starter: Any, app_id: int, step: str, changes: dict[str, Any]) -> Outcome:
        web = starter.client
        url = f"/portal/applications/{app_id}/step/{step}"
        data = {k: str(v) for k, v in changes.items()}
        data.update({"_action": "save", "_version": str(env.app(app_id).version), "csrf_token": _csrf(web, url)})
        r = web.client.post(url, data=data)
        if r.status_code == 302:
            return Outcome(True, app_id=app_id)
        out = _refusal_of_page(r)
        return out


class WindowSave(PortalSave):
    name = "window"
    starter = Window


def _changed(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    for dotted, value in changes.items():
        node = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return data


class ApiPut:
    name = "api-put"
    starter = ApiChannel

    def save(self, env: Env, starter: Any, app_id: int, step: str, changes: dict[str, Any]) -> Outcome:
        c = starter.client
        current = c.get(f"/applications/{app_id}").json
        r = c.put(f"/applications/{app_id}/data", {"version": current["version"],
                                                    "data": _changed(current["data"], changes)})
        return Outcome(True, app_id=app_id) if r.status_code == 200 else _api_refusal(r)


class ApiPatch:
    name = "api-patch"
    starter = ApiChannel

    def save(self, env: Env, starter: Any, app_id: int, step: str, changes: dict[str, Any]) -> Outcome:
        c = starter.client
        current = c.get(f"/applications/{app_id}").json
        data = _changed(current["data"], changes)
        r = c.patch(f"/applications/{app_id}/steps/{step}", {"version": current["version"], "data": data[step]})
        return Outcome(True, app_id=app_id) if r.status_code == 200 else _api_refusal(r)


SAVE_CHANNELS = [PortalSave, WindowSave, ApiPut, ApiPatch]
