"""Channel adapters for the viewing contract: each reads the same use case its own way and says what it saw.

A channel turns a page (portal, service-hall window, desk) or a JSON answer (API
citizen and reviewer resources) into plain Python values — titles, local times,
masked numbers, header values — so one table of scenarios can demand the same
outcome from all of them.
"""

from __future__ import annotations

import html as html_lib
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

_TESTS = Path(__file__).resolve().parents[1]
for _folder in ("desk", "api", "portal"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.append(str(_TESTS / _folder))

from api_support import Client  # noqa: E402
from desk_support import CALENDAR, JX, MZ, PNG, create  # noqa: E402,F401 (re-exported for the scenarios)

CITIZEN = "mj-citizen-chen"
JX_CITIZEN = "jx-citizen-liqiang"
CLERK = {"meizhou-meijiang": "mj-window"}
# need to know: the office the application is at (a higher office reads it once it gets there)
REVIEWER = {"meizhou-meijiang": "mj-community", "jiangxi": "jx-street-clerk"}


def _text(fragment: str) -> str:
    """Visible text of an HTML fragment (tags dropped, entities decoded, spaces collapsed)."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _local(iso: str | None) -> str:
    """An API instant as the pages print it; the offset must be the deployment zone's (+08:00)."""
    if not iso:
        return ""
    parsed = datetime.fromisoformat(iso)
    assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 8 * 3600, iso
    return parsed.strftime("%Y-%m-%d %H:%M")


def _error_of_page(r) -> tuple[int, str, str]:
    body = r.get_data(as_text=True)
    found = re.search(r'<section class="error" role="alert"><h1>[^<]*</h1><p>(.*?)</p>', body, re.S)
    code = {404: "not_found", 403: "forbidden"}.get(r.status_code, str(r.status_code))
    return r.status_code, code, _text(found.group(1)) if found else ""


def _error_of_json(r) -> tuple[int, str, str]:
    error = r.json["error"]
    return r.status_code, error["code"], error["message"]


def _served(r) -> dict[str, Any]:
    """What the one serving policy fixes about a served file or notice."""
    return {
        "status": r.status_code,
        "type": r.mimetype,
        "disposition": r.headers.get("Content-Disposition", "").split(";")[0],
        "filename*": re.search(r"filename\*=([^;]+)", r.headers.get("Content-Disposition", "")).group(1)
        if "filename*=" in r.headers.get("Content-Disposition", "") else None,
        "nosniff": r.headers.get("X-Content-Type-Options"),
        "cache": r.headers.get("Cache-Control"),
        "notice_number": r.headers.get("X-Notice-Number"),
        "body": r.data[:5],
    }


class Web:
    """A signed-in browser session on the portal or the desk."""

    audience = "citizen"

    def __init__(self, app, username: str) -> None:
        from support import WebClient

        self.c = WebClient(app)
        r = self.c.login(username)
        assert r.status_code == 302, r.get_data(as_text=True)[:300]

    def page(self, path: str):
        return self.c.get(path)

    def html(self, path: str) -> str:
        r = self.c.get(path)
        assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:500])
        return r.get_data(as_text=True)


class Portal(Web):
    """The citizen portal (also the window clerk's view of what they assisted)."""

    def timeline(self, app_id: int) -> list[tuple[str, str, str]]:
        page = self.html(f"/portal/applications/{app_id}")
        rows = re.findall(r'<tr id="event-\d+"[^>]*><td class="when">(.*?)</td><td class="title">(.*?)</td>'
                          r'<td class="who">(.*?)</td>', page, re.S)
        return [(_text(title), _text(when), _text(who)) for when, title, who in rows]

    def progress(self, app_id: int) -> dict[str, str]:
        page = self.html(f"/portal/applications/{app_id}")
        return dict(re.findall(r'<li data-stage="([^"]+)" class="([a-z]+)">', page))

    def listed(self, app_id: int) -> str:
        page = self.html("/portal/my")
        card = re.search(rf'data-application="{app_id}">(.*?)</li>', page, re.S).group(1)
        return _text(card)

    def citizen_text(self, app_id: int) -> str:
        return _text(self.html(f"/portal/applications/{app_id}"))

    def not_found(self, app_id: int) -> tuple[int, str, str]:
        return _error_of_page(self.page(f"/portal/applications/{app_id}"))

    def file(self, app_id: int, sha: str) -> dict[str, Any]:
        return _served(self.page(f"/portal/applications/{app_id}/files/{sha}?download=1"))

    def notice(self, app_id: int, notice_id: int) -> dict[str, Any]:
        return _served(self.page(f"/portal/notices/{notice_id}.pdf"))


class Desk(Web):
    audience = "staff"

    def _page(self, app_id: int) -> str:
        return self.html(f"/desk/applications/{app_id}")

    def read(self, app_id: int) -> None:
        self._page(app_id)

    def history(self, app_id: int) -> list[tuple[str, str, str]]:
        page = self._page(app_id)
        items = re.findall(r'<li id="event-\d+" data-action="[^"]*"><strong class="title">(.*?)</strong>.*?'
                           r'<span class="when">(.*?)</span> · <span class="who">(.*?)</span>', page, re.S)
        return [(_text(title), _text(when), _text(who)) for title, when, who in items]

    def masking(self, app_id: int) -> dict[str, str]:
        page = self._page(app_id)

        def value(node_id: str) -> str:
            found = re.search(rf'id="v-{node_id}">.*?<div class="value">(.*?)</div>', page, re.S)
            return _text(found.group(1)) if found else ""

        return {"applicant": _text(re.search(r'<span id="id-masked">(.*?)</span>', page, re.S).group(1)),
                "member_id": value("f-members-applicant-id_number"),
                "member_mobile": value("f-members-applicant-mobile")}

    def precheck(self, app_id: int) -> dict[str, str]:
        page = self._page(app_id)
        out = {}
        for cid, body in re.findall(r'<li id="cond-([^"]+)"[^>]*>(.*?)</li>', page, re.S):
            hint = re.search(r'<span class="hint">(.*?)</span>', body, re.S)
            out[cid] = _text(hint.group(1)) if hint else ""
        return out

    def checklist(self, app_id: int) -> list[tuple[str, str]]:
        page = self._page(app_id)
        return re.findall(r'<li id="material-([^"]+)" data-state="([a-z_]+)"', page)

    def material_fields(self, app_id: int) -> set[str]:
        """Which material kinds the data section shows as upload fields."""
        page = self._page(app_id)
        return set(re.findall(r'<div class="field field-file" id="v-f-materials-([a-z_]+)"', page))

    def signature(self, app_id: int) -> tuple[str, str | None]:
        page = self._page(app_id)
        img = re.search(r'<img class="signature-image" src="([^"]+)"', page)
        return ("image" if img else "text", html_lib.unescape(img.group(1)) if img else None)

    def not_found(self, app_id: int) -> tuple[int, str, str]:
        return _error_of_page(self.page(f"/desk/applications/{app_id}"))

    def file(self, app_id: int, sha: str) -> dict[str, Any]:
        return _served(self.page(f"/desk/applications/{app_id}/files/{sha}?download=1"))

    def notice(self, app_id: int, notice_id: int) -> dict[str, Any]:
        return _served(self.page(f"/desk/applications/{app_id}/notices/{notice_id}"))


class Api:
    """A bearer-token client of /api/v1."""

    def __init__(self, app, username: str) -> None:
        self.c = Client(app)
        self.c.sign_in(username)


class ApiCitizen(Api):
    audience = "citizen"

    def _view(self, app_id: int) -> dict[str, Any]:
        r = self.c.get(f"/applications/{app_id}")
        assert r.status_code == 200, r.get_data(as_text=True)[:500]
        return r.json

    def timeline(self, app_id: int) -> list[tuple[str, str, str]]:
        return [(e["title"], _local(e["at"]), e["actor"]) for e in self._view(app_id)["timeline"]]

    def listed(self, app_id: int) -> dict[str, Any]:
        items = self.c.get("/applications").json["items"]
        return next(i for i in items if i["id"] == app_id)

    def citizen_text(self, app_id: int) -> str:
        parts = [self.c.get(f"/applications/{app_id}{suffix}").get_data(as_text=True)
                 for suffix in ("", "/materials", "/workflow")]
        return " ".join(parts)

    def not_found(self, app_id: int) -> tuple[int, str, str]:
        return _error_of_json(self.c.get(f"/applications/{app_id}"))

    def file(self, app_id: int, sha: str) -> dict[str, Any]:
        return _served(self.c.get(f"/applications/{app_id}/files/{sha}"))

    def notice(self, app_id: int, notice_id: int) -> dict[str, Any]:
        return _served(self.c.get(f"/notices/{notice_id}"))


class ApiReview(Api):
    audience = "staff"

    def _view(self, app_id: int) -> dict[str, Any]:
        r = self.c.get(f"/review/applications/{app_id}")
        assert r.status_code == 200, r.get_data(as_text=True)[:500]
        return r.json

    def read(self, app_id: int) -> None:
        self._view(app_id)

    def history(self, app_id: int) -> list[tuple[str, str, str]]:
        return [(e["title"], _local(e["at"]), e["actor"]) for e in self._view(app_id)["history"]]

    def masking(self, app_id: int) -> dict[str, str]:
        view = self._view(app_id)
        applicant = view["data"]["members"]["applicant"]
        return {"applicant": view["applicant"]["id_number_masked"], "member_id": applicant.get("id_number", ""),
                "member_mobile": applicant.get("mobile", "")}

    def precheck(self, app_id: int) -> dict[str, str]:
        pre = self._view(app_id)["precheck"] or {}
        parts = {}
        for cond in pre.get("conditions") or []:
            shown = "；".join(f"{s['title']}：{s['text']}" for s in cond["shown"])
            parts[cond["id"]] = f"（{shown}）" if shown else ""
        return parts

    def checklist(self, app_id: int) -> list[tuple[str, str]]:
        return [(m["kind"], m["state"]) for m in self._view(app_id)["checklist"]]

    def material_fields(self, app_id: int) -> set[str]:
        view = self._view(app_id)
        step = next(st for st in view["steps"] if st["id"] == "materials")
        return {v["path"].split(".", 1)[1] for v in step["values"] if v["kind"] == "files"}

    def signature(self, app_id: int) -> tuple[str, str | None]:
        def walk(values):
            for v in values:
                if v["kind"] == "signature":
                    return v
                found = walk(v["children"])
                if found:
                    return found
            return None

        for step in self._view(app_id)["steps"]:
            found = walk(step["values"])
            if found:
                return ("image" if found["image"] else "text", found["image"])
        return ("text", None)

    def not_found(self, app_id: int) -> tuple[int, str, str]:
        return _error_of_json(self.c.get(f"/review/applications/{app_id}"))

    def file(self, app_id: int, sha: str) -> dict[str, Any]:
        return _served(self.c.get(f"/review/applications/{app_id}/files/{sha}"))


#: channel name → (adapter class, whose account it signs in with: "citizen" | "clerk" | "reviewer")
CHANNELS = {
    "portal": (Portal, "citizen"),
    "window": (Portal, "clerk"),
    "desk": (Desk, "reviewer"),
    "api-citizen": (ApiCitizen, "citizen"),
    "api-review": (ApiReview, "reviewer"),
}


def open_channel(name: str, app, *, pack: str = "meizhou-meijiang", reviewer: str | None = None):
    cls, who = CHANNELS[name]
    username = {"citizen": CITIZEN if pack == "meizhou-meijiang" else JX_CITIZEN,
                "clerk": CLERK.get(pack, "mj-window"),
                "reviewer": reviewer or REVIEWER[pack]}[who]
    return cls(app, username)
