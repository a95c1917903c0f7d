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
        if status in (301, 302, 303):
            response = c.get(response.headers["Location"])
        text = response.get_data(as_text=True)
        if fallback and status in (301, 302, 303):
            text += c.get(fallback).get_data(as_text=True)
        return Seen(status, None, text)

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
