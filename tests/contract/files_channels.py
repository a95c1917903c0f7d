"""Channel adapters of the files area: the same use case through the portal, the window, the desk and the API.

Each adapter does what a person on that channel does and returns what that person sees: the HTTP status,
the refusal's code where the channel shows one (the API), and the text shown (page or JSON error).
"""

from __future__ import annotations

import copy
import io
import json
import re
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select

TESTS = Path(__file__).resolve().parents[1]
for folder in ("api", "portal", "desk"):
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))

from api_support import Api  # noqa: E402
from portal_files import FILES, PNG, SHA, SIGNATURE  # noqa: E402,F401

from formflow.applications import drafts as apps  # noqa: E402
from formflow.calendars.workdays import pack_calendars  # noqa: E402
from formflow.db.models import Account, Application, ApplicationFile  # noqa: E402
from formflow.files.uploads import store_upload  # noqa: E402
from formflow.workflow import engine  # noqa: E402
from support import WebClient  # noqa: E402

PACK, MATTER = "jiangxi", "public-rental-housing"
TODAY = date(2026, 3, 2)
#: The street the demo street clerk (REVIEWER) covers.
OFFICE = "360102001"
#: What the portal says once an application is submitted.
SUBMITTED = "申请已提交。您可以在“我的申请”中查询实时审核进度。"
CITIZEN, OTHER, CLERK, REVIEWER = "jx-citizen-wangfang", "jx-citizen-liqiang", "jx-window-clerk", "jx-street-clerk"


def complete_data() -> dict:
    """JIANGXI_OK of tests/portal/conftest.py, read without importing a conftest module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("portal_conftest_data_files", TESTS / "portal" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return copy.deepcopy(module.JIANGXI_OK)


@dataclass
class Seen:
    status: int
    code: str | None
    text: str


def account(p, username: str) -> Account:
    with p.sessions() as s:
        return s.scalar(select(Account).where(Account.username == username))


def upload_record(s, storage, app_id: int, uploader_id: int, content: bytes = PNG) -> str:
    stored = store_upload(s, storage, content, "image/png")
    s.add(ApplicationFile(application_id=app_id, material="scan", sha256=stored.sha256, original_name="scan.png",
                          uploaded_by=uploader_id))
    s.flush()
    return stored.sha256


def draft(p, *, assisted: bool = False, data: dict | None = None, own_files: bool = True) -> int:
    """A Jiangxi draft of the citizen (started by the window clerk when `assisted`), data stored as given."""
    with p.sessions.begin() as s:
        citizen = s.scalar(select(Account).where(Account.username == CITIZEN))
        clerk = s.scalar(select(Account).where(Account.username == CLERK)) if assisted else None
        app = apps.start_draft(s, p.packs, applicant=citizen, pack=PACK, matter=MATTER, office_id=OFFICE,
                               channel="jxzwfw", actor=clerk or citizen, assisted_by=clerk)
        if own_files:
            upload_record(s, p.storage, app.id, citizen.id)
        if data is not None:
            app.data = data  # as stored by older code: the use cases must not trust it
        return app.id


def others_upload(p) -> str:
    """A scan uploaded to ANOTHER citizen's application; its sha256 is what a fabricator would copy."""
    with p.sessions.begin() as s:
        other = s.scalar(select(Account).where(Account.username == OTHER))
        office = apps.selectable_offices(s, PACK)[0].id
        theirs = apps.start_draft(s, p.packs, applicant=other, pack=PACK, matter=MATTER, office_id=office,
                                  channel="jxzwfw")
        return upload_record(s, p.storage, theirs.id, other.id, content=_png((250, 10, 10)))


def _png(colour) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (6, 6), colour).save(out, format="PNG")
    return out.getvalue()


def submitted(p, data: dict) -> int:
    """A submitted application (through the use case) with a correction request naming the income certificate."""
    app_id = draft(p, data=None)
    with p.sessions.begin() as s:
        citizen = s.scalar(select(Account).where(Account.username == CITIZEN))
        apps.save_draft(s, app_id, data, actor=citizen, expected_version=s.get(Application, app_id).version,
                        today=TODAY)
        apps.submit(s, app_id, actor=citizen, expected_version=None, token="t", keys=p.keys, today=TODAY,
                    calendar=pack_calendars(p.root)(PACK))
    return app_id


def request_correction(p, app_id: int, materials: list[str], note: str | None) -> None:
    with p.sessions.begin() as s:
        clerk = s.scalar(select(Account).where(Account.username == REVIEWER))
        app = s.get(Application, app_id)
        engine.perform(s, app_id, stage=app.stage, action="request_correction", actor=clerk, note=note,
                       expected_version=app.version, calendar=pack_calendars(p.root)(PACK), today=TODAY,
                       storage=p.storage, renderers=p.root / "renderers", materials=materials, keys=p.keys)


def reviewer_acts(p, app_id: int, action: str, note: str | None = None) -> None:
    """The street clerk takes `action` at the application's current stage (its version moves on)."""
    with p.sessions.begin() as s:
        clerk = s.scalar(select(Account).where(Account.username == REVIEWER))
        app = s.get(Application, app_id)
        engine.perform(s, app_id, stage=app.stage, action=action, actor=clerk, note=note,
                       expected_version=app.version, calendar=pack_calendars(p.root)(PACK), today=TODAY,
                       storage=p.storage, renderers=p.root / "renderers", keys=p.keys)


def version(p, app_id: int) -> int:
    with p.sessions() as s:
        return s.get(Application, app_id).version


# --------------------------------------------------------------------------- channels


class Channels:
    """One web app (portal, window, desk) and the API over one platform, today fixed."""

    def __init__(self, p) -> None:
        self.p = p
        self.api = Api(p, TODAY)
        self.app = self.api.app

    def web(self, username: str) -> WebClient:
        c = WebClient(self.app)
        assert c.login(username).status_code == 302
        return c

    def _page(self, c: WebClient, response, fallback: str) -> Seen:
        status = response.status_code
        code = response.headers.get("X-Refusal-Code")  # the portal's refusal code, where it sends one
        if status in (301, 302, 303):
            response = c.get(response.headers["Location"])
        text = response.get_data(as_text=True)
        if fallback and status in (301, 302, 303):
            text += c.get(fallback).get_data(as_text=True)
        return Seen(status, code, text)

    @staticmethod
    def _json(r) -> Seen:
        body = r.json if r.is_json else {}
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        return Seen(r.status_code, error.get("code") or body.get("code"),
                    json.dumps(body, ensure_ascii=False) if body else r.get_data(as_text=True))

    def _person(self, channel: str) -> str:
        return CLERK if channel == "window" else CITIZEN

    # save a step naming files ------------------------------------------------
    def save_files(self, channel: str, app_id: int, field: str, files: list[dict]) -> Seen:
        """Save the materials step with `files` at `field` (dotted, under materials) as posted by the person."""
        step = "materials"
        if channel == "api":
            data = copy.deepcopy(complete_data()[step])
            here = data
            parts = field.split(".")[1:]
            for part in parts[:-1]:
                here = here.setdefault(part, {})
            here[parts[-1]] = files
            r = self.api.client(CITIZEN).patch(f"/applications/{app_id}/steps/{step}",
                                               {"version": version(self.p, app_id), "data": data})
            return self._json(r)
        c = self.web(self._person(channel))
        page = f"/portal/applications/{app_id}/step/{step}"
        form = {"_version": version(self.p, app_id), "_action": "save", f"{field}.__count": str(len(files))}
        for i, f in enumerate(files):  # what a tampered page posts: the reference's parts as form fields
            form.update({f"{field}.{i}.{k}": str(v) for k, v in f.items()})
        return self._page(c, c.post(page, form, token_from=page), "")

    # sign -------------------------------------------------------------------
    def sign(self, channel: str, app_id: int, field: str, data_url: str) -> Seen:
        """Draw a signature: the portal's signature pad posts it; the API saves it in the step's data."""
        if channel == "api":
            step = field.split(".", 1)[0]
            data = copy.deepcopy(complete_data()[step])
            here = data
            parts = field.split(".")[1:]
            for part in parts[:-1]:
                here = here.setdefault(part, {})
            here[parts[-1]] = data_url
            r = self.api.client(CITIZEN).patch(f"/applications/{app_id}/steps/{step}",
                                               {"version": version(self.p, app_id), "data": data})
            return self._json(r)
        c = self.web(self._person(channel))
        page = f"/portal/applications/{app_id}/step/{field.split('.', 1)[0]}"
        r = c.post(f"/portal/applications/{app_id}/signature",
                   {"field": field, "data_url": data_url, "_version": version(self.p, app_id)}, token_from=page)
        return self._json(r)

    # withdraw ------------------------------------------------------------------
    def withdraw(self, channel: str, app_id: int, meanwhile=None, reason: str = "不再需要") -> Seen:
        """The citizen opens 放弃申请 (the page or the resource gives the version), `meanwhile` happens,
        then the citizen confirms naming the version they loaded."""
        if channel == "api":
            c = self.api.client(CITIZEN)
            loaded = c.get(f"/applications/{app_id}").json["version"]
            if meanwhile:
                meanwhile()
            return self._json(c.post(f"/applications/{app_id}/withdraw", {"version": loaded, "reason": reason}))
        c = self.web(CITIZEN)
        page = c.get(f"/portal/applications/{app_id}/withdraw").get_data(as_text=True)
        loaded = int(re.search(r'name="_version" value="(\d+)"', page).group(1))
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        if meanwhile:
            meanwhile()
        r = c.client.post(f"/portal/applications/{app_id}/withdraw",
                          data={"csrf_token": token, "_version": loaded, "confirm": "yes", "reason": reason})
        return self._page(c, r, "")

    # submit twice -----------------------------------------------------------
    def submit_twice(self, channel: str, app_id: int, *, same_token: bool) -> Seen:
        """Submit, then submit again from the same page (a double click: the same token and version) or from
        another tab (a token of its own); returns what the second submit shows."""
        loaded = version(self.p, app_id)
        if channel == "api":
            c = self.api.client(CITIZEN)
            keys = ("tab-1", "tab-1" if same_token else "tab-2")
            seen = [c.post(f"/applications/{app_id}/submit", {"version": loaded}, headers={"Idempotency-Key": k})
                    for k in keys]
            assert seen[0].status_code == 200, seen[0].get_data(as_text=True)[:500]
            return self._json(seen[1])
        c = self.web(self._person(channel))
        page = f"/portal/applications/{app_id}/confirm"
        token = c.csrf(page)
        seen = [self._page(c, c.client.post(f"/portal/applications/{app_id}/submit",
                                            data={"csrf_token": token, "_token": tab, "_version": loaded}), "")
                for tab in ("tab-1", "tab-1" if same_token else "tab-2")]
        assert SUBMITTED in shown(seen[0].text), shown(seen[0].text)[:1000]
        return seen[1]

    # submit ---------------------------------------------------------------
    def submit(self, channel: str, app_id: int) -> Seen:
        if channel == "api":
            r = self.api.client(CITIZEN).post(f"/applications/{app_id}/submit", {"version": version(self.p, app_id)})
            return Seen(r.status_code, (r.json.get("error") or {}).get("code"), json.dumps(r.json, ensure_ascii=False))
        c = self.web(CLERK if channel == "window" else CITIZEN)
        page = f"/portal/applications/{app_id}/confirm"
        r = c.post(f"/portal/applications/{app_id}/submit", {"_token": "tok", "_version": version(self.p, app_id)},
                   token_from=page)
        return self._page(c, r, page)

    # answer a correction ----------------------------------------------------
    def answer(self, channel: str, app_id: int, note: str) -> Seen:
        if channel == "api":
            r = self.api.client(CITIZEN).post(f"/applications/{app_id}/correction",
                                              {"version": version(self.p, app_id), "note": note})
            return Seen(r.status_code, (r.json.get("error") or {}).get("code"), json.dumps(r.json, ensure_ascii=False))
        c = self.web(CITIZEN)
        page = f"/portal/applications/{app_id}"
        r = c.post(f"/portal/applications/{app_id}/correction", {"_version": version(self.p, app_id), "note": note},
                   token_from=page)
        return self._page(c, r, "")

    def upload(self, channel: str, app_id: int, field: str) -> Seen:
        if channel == "api":
            r = self.api.client(CITIZEN).post(f"/applications/{app_id}/files", data={
                "field": field, "version": str(version(self.p, app_id)), "file": (io.BytesIO(PNG), "证明.png")},
                content_type="multipart/form-data")
            return Seen(r.status_code, None, r.get_data(as_text=True))
        c = self.web(CITIZEN)
        page = f"/portal/applications/{app_id}"
        token = c.csrf(page)
        r = c.client.post(f"/portal/applications/{app_id}/correction", data={
            "csrf_token": token, "_version": version(self.p, app_id), "note": "",
            f"file:{field}": (io.BytesIO(PNG), "证明.png")}, content_type="multipart/form-data")
        return self._page(c, r, "")

    # issue a correction (reviewers) -----------------------------------------
    def issue_correction(self, channel: str, app_id: int, materials: list[str], note: str,
                         reviewer: str = REVIEWER) -> Seen:
        with self.p.sessions() as s:
            app = s.get(Application, app_id)
            stage, ver = app.stage, app.version
        if channel == "api":
            r = self.api.client(reviewer).post(f"/review/applications/{app_id}/actions", {
                "stage": stage, "action": "request_correction", "version": ver, "note": note,
                "materials": materials})
            return Seen(r.status_code, (r.json.get("error") or {}).get("code"), json.dumps(r.json, ensure_ascii=False))
        c = self.web(reviewer)
        page = f"/desk/applications/{app_id}"
        r = c.post(f"/desk/applications/{app_id}/act", {"stage": stage, "action": "request_correction",
                                                       "expected_version": ver, "note": note,
                                                       "materials": materials}, token_from=page)
        return self._page(c, r, "")


def shown(text: str) -> str:
    """Page text without tags (messages may sit inside elements)."""
    return re.sub(r"<[^>]+>", "", text)
