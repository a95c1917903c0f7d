"""Channel adapters for the PORTAL contract (status words, the confirmation's pre-check, e-licence copies on the
wizard's pages, the public materials catalogue, a wrong ID number): each channel reads it its own way and says
what it saw, in plain values, so one table of scenarios can demand the same outcome from all of them.

Built on the viewing contract's adapters (`contract.viewing_channels`): the same sign-in, the same accounts.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select

from contract.viewing_channels import REVIEWER, ApiCitizen, Desk, Portal, _text
from formflow.db.models import Account, Application, Office
from formflow.packs.versions import pin

MATTER = "public-rental-housing"
HOME = {"meizhou-meijiang": "441402001001", "jiangxi": "360102001"}
WINDOW_CLERK = {"meizhou-meijiang": "mj-window", "jiangxi": "jx-window-clerk"}
CITIZENS = {"meizhou-meijiang": "mj-citizen-chen", "jiangxi": "jx-citizen-wangfang"}


def draft(p, pack: str, data: dict[str, Any], *, assisted: bool = True, category: str | None = None) -> int:
    """A draft of `pack`'s citizen (started at the window by its clerk when `assisted`), with `data`."""
    with p.sessions.begin() as s:
        where = s.get(Office, HOME[pack])
        applicant = s.scalar(select(Account).where(Account.username == CITIZENS[pack]))
        clerk = s.scalar(select(Account).where(Account.username == WINDOW_CLERK[pack]))
        app = Application(pack=pack, matter=MATTER, status="draft", applicant_id=applicant.id,
                          assisted_by_id=clerk.id if assisted else None, office_id=where.id,
                          office_path=where.path, versions=pin(s, p.packs, pack, MATTER), data=data,
                          category=category, current_step="category", stages=[])
        s.add(app)
        s.flush()
        return app.id


def _status_of_page(page: str, element: str) -> str:
    found = re.search(rf'id="app-status"[^>]*>(.*?)</{element}>', page, re.S)
    assert found, "no status on the page"
    return _text(found.group(1))


def _precheck_of_confirm(page: str) -> dict[str, str]:
    out = {}
    for cid, body in re.findall(r'<li data-condition-id="([^"]+)"[^>]*>(.*?)</li>', page, re.S):
        hint = re.search(r'<span class="hint">(.*?)</span>', body, re.S)
        out[cid] = _text(hint.group(1)) if hint else ""
    return out


def _output(page: str, node_id: str) -> str | None:
    found = re.search(rf'<output id="{node_id}"[^>]*>(.*?)</output>', page, re.S)
    return _text(found.group(1)) if found else None


class PortalWeb(Portal):
    """The citizen portal (as the applicant) — or, signed in as the clerk, the service-hall window."""

    def status_word(self, app_id: int) -> str:
        return _status_of_page(self.html(f"/portal/applications/{app_id}"), "strong")

    def confirm_precheck(self, app_id: int) -> dict[str, str]:
        return _precheck_of_confirm(self.html(f"/portal/applications/{app_id}/confirm"))

    def copy_on_step(self, app_id: int, step: str, node_id: str) -> str | None:
        return _output(self.html(f"/portal/applications/{app_id}/step/{step}"), node_id)

    def wrong_id_number(self, pack: str, number: str, headers: dict[str, str]) -> str:
        """The window's refusal of a citizen whose ID number is wrong: the message at /id_number."""
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', self.html("/portal/window")).group(1)
        r = self.c.client.post("/portal/window", headers=headers, data={
            "matter": f"{pack}/{MATTER}", "office": HOME[pack], "name": "王芳", "id_number": number,
            "consent": "yes", "csrf_token": csrf})
        assert r.status_code == 400, r.status_code
        found = re.search(r'<li data-pointer="/id_number">(.*?)</li>', r.get_data(as_text=True), re.S)
        return _text(found.group(1))


class DeskWeb(Desk):
    def status_word(self, app_id: int) -> str:
        return _status_of_page(self._page(app_id), "dd")


class ApiClient(ApiCitizen):
    def status_word(self, app_id: int) -> str:
        view = self._view(app_id)
        listed = self.listed(app_id)
        assert (listed["status_title"], listed["result_title"]) == (view["status_title"], view["result_title"])
        return f"{view['status_title']}（{view['result_title']}）" if view["result_title"] else view["status_title"]

    def public_catalogue(self, pack: str) -> str:
        r = self.c.get(f"/matters/{pack}/{MATTER}/materials")
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
        return r.get_data(as_text=True)

    def wrong_id_number(self, pack: str, number: str, headers: dict[str, str]) -> str:
        r = self.c.post("/me/identity", {"consent": True, "name": "王芳", "id_number": number}, headers=headers)
        assert r.status_code == 422, r.get_data(as_text=True)[:300]
        return r.json["error"]["message"]


def open_channel(name: str, app, *, pack: str = "meizhou-meijiang") -> Any:
    """The channel `name`, signed in as who uses it (portal, api: the citizen; window: the clerk; desk: a reviewer)."""
    if name == "portal":
        return PortalWeb(app, CITIZENS[pack])
    if name == "window":
        return PortalWeb(app, WINDOW_CLERK[pack])
    if name == "api":
        return ApiClient(app, CITIZENS[pack])
    return DeskWeb(app, REVIEWER[pack])


TODAY = date(2026, 3, 2)
