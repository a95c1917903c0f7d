"""Issue 7 — concurrency and faults: the request fails cleanly, nothing half-written, a retry succeeds.

Catalogue references (covered elsewhere, not duplicated here):
- two reviewers acting at once on PostgreSQL →
  tests/workflow/test_wf_concurrency_pg.py::test_two_reviewers_at_once_one_wins
- two `formflow tick` runs at once →
  tests/workflow/test_wf_concurrency_pg.py::test_two_ticks_at_once_move_each_application_once
"""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from PIL import Image
from sec_support import CALENDAR, MZ, TODAY, create, events
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from formflow.applications import drafts as apps
from formflow.db.models import Account, Application, ApplicationFile, Event

JX_PACK, MATTER = "jiangxi", "public-rental-housing"


@contextmanager
def database_gone(factory, when: str = "before_commit"):
    """Every commit (or flush) of sessions from `factory` fails as if the server went away."""

    def boom(*_a, **_k):
        raise OperationalError("COMMIT", {}, ConnectionError("server closed the connection unexpectedly"))

    event.listen(factory, when, boom)
    try:
        yield
    finally:
        event.remove(factory, when, boom)


def _factory(sec):
    return sec.app.extensions["formflow"]["sessions"]


def _draft(sec, username="jx-citizen-wangfang") -> int:
    with sec.p.sessions.begin() as s:
        acc = s.scalar(select(Account).where(Account.username == username))
        return apps.start_draft(s, sec.p.packs, applicant=acc, pack=JX_PACK, matter=MATTER,
                                office_id=apps.selectable_offices(s, JX_PACK)[0].id, channel="jxzwfw").id


def _state(sec, app_id):
    with sec.p.sessions() as s:
        a = s.get(Application, app_id)
        n_events = s.scalar(select(func.count()).select_from(Event).where(Event.application_id == app_id))
        n_files = s.scalar(select(func.count()).select_from(ApplicationFile)
                           .where(ApplicationFile.application_id == app_id))
        return a.status, a.version, list(a.stages or []), a.data, n_events, n_files


def _version(sec, app_id):
    return str(_state(sec, app_id)[1])


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(out, format="PNG")
    return out.getvalue()


def _save(sec, c, app_id, name="王芳"):
    url = f"/portal/applications/{app_id}/step/members"
    return c.post(url, {"_action": "save", "_version": _version(sec, app_id),
                        "members.applicant.basic.name": name}, token_from=url)


def _upload(sec, c, app_id, data, name="收入.png"):
    url = f"/portal/applications/{app_id}/step/materials"
    token = c.csrf(url)
    return c.client.post(url, data={"_action": "upload", "_version": _version(sec, app_id), "csrf_token": token,
                                    "file:materials.uploads.income_certificate": (io.BytesIO(data), name)},
                         content_type="multipart/form-data")


# --------------------------------------------------------------------------- database going away

@pytest.mark.parametrize("when", ["before_commit", "before_flush"])
def test_database_gone_during_a_draft_save_then_retry(sec, when):
    app_id = _draft(sec)
    before = _state(sec, app_id)
    c = sec.client("jx-citizen-wangfang")
    with database_gone(_factory(sec), when):
        r = _save(sec, c, app_id)
    assert r.status_code == 503
    body = r.get_data(as_text=True)
    assert "没有保存" in body and 'lang="zh-CN"' in body
    assert _state(sec, app_id) == before
    assert _save(sec, c, app_id).status_code == 302  # the database is back: the same save succeeds
    after = _state(sec, app_id)
    assert after[1] == before[1] + 1 and after[4] == before[4] + 1
    assert after[3]["members"]["applicant"]["basic"]["name"] == "王芳"


def _accept_ready(sec):
    """An application at the community stage with a passing marking (the accept action is allowed)."""
    from desk_support import marking_form, table_of

    app_id = create(sec.p, MZ, today=TODAY)
    c = sec.client("mj-community")
    stage = "community_acceptance"
    r = c.post(f"/desk/applications/{app_id}/stages/{stage}/marking",
               marking_form(table_of(sec.p, app_id, stage)), token_from=f"/desk/applications/{app_id}")
    assert r.status_code == 302
    return app_id, c, stage


def _act(sec, c, app_id, stage, action="accept"):
    v = _state(sec, app_id)[1]
    return c.post(f"/desk/applications/{app_id}/act", {"stage": stage, "action": action,
                                                        "expected_version": str(v)},
                  token_from=f"/desk/applications/{app_id}")


@pytest.mark.parametrize("when", ["before_commit", "before_flush"])
def test_database_gone_during_a_desk_action_then_retry(sec, when):
    app_id, c, stage = _accept_ready(sec)
    before = _state(sec, app_id)
    with database_gone(_factory(sec), when):
        r = _act(sec, c, app_id, stage)
    assert r.status_code == 503 and "没有保存" in r.get_data(as_text=True)
    assert _state(sec, app_id) == before  # no event without its state change, and no change without event
    r = _act(sec, c, app_id, stage)
    assert r.status_code == 302
    status, version, stages, _data, n_events, _ = _state(sec, app_id)
    assert stages == ["street_review"] and n_events == before[4] + 1
    assert [e.action for e in events(sec.p, app_id)][-1] == "accept"


def test_database_gone_during_an_api_save_is_a_json_503(sec):
    from api_support import Client

    app_id = _draft(sec)
    before = _state(sec, app_id)
    api = Client(sec.app)
    api.sign_in("jx-citizen-wangfang")
    body = {"version": before[1], "data": {"deposits_and_securities": 100}}
    with database_gone(_factory(sec)):
        r = api.send("PATCH", f"/applications/{app_id}/steps/assets", body)
    assert r.status_code == 503 and "没有保存" in r.json["error"]["message"]
    assert _state(sec, app_id) == before
    assert api.send("PATCH", f"/applications/{app_id}/steps/assets", body).status_code == 200


# --------------------------------------------------------------------------- uploads and the disk

def test_killed_after_the_file_write_before_the_row_leaves_no_dangling_reference(sec, monkeypatch):
    app_id = _draft(sec)
    before = _state(sec, app_id)
    c = sec.client("jx-citizen-wangfang")

    def killed(*_a, **_k):
        raise OperationalError("INSERT", {}, ConnectionError("terminated"))

    # the blob is written, then the process "dies" before the database learns of it
    from formflow.usecases import files as file_cases

    monkeypatch.setattr(file_cases, "ApplicationFile", _raising(killed))
    r = _upload(sec, c, app_id, _png())
    monkeypatch.undo()
    assert r.status_code == 503
    assert _state(sec, app_id) == before  # no application points at the (orphan) blob
    assert _upload(sec, c, app_id, _png()).status_code == 302  # retry: the same bytes, stored once
    _status, _v, _st, data, _e, n_files = _state(sec, app_id)
    assert n_files == 1 and len(data["materials"]["uploads"]["income_certificate"]) == 1


def _raising(fn):
    class Boom:
        def __init__(self, *a, **k):
            fn()

    return Boom


def test_partial_temp_file_in_storage_is_never_served_or_referenced(sec):
    storage = sec.p.storage
    app_id = _draft(sec)
    c = sec.client("jx-citizen-wangfang")
    png = _png()
    import hashlib

    digest = hashlib.sha256(png).hexdigest()
    folder = storage.path_of(digest).parent
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".upload-crashed").write_bytes(png[:10])  # what a killed writer leaves behind
    assert _upload(sec, c, app_id, png).status_code == 302
    assert storage.read(digest) == png  # the real blob is whole, written beside the leftover
    assert c.get(f"/portal/applications/{app_id}/files/{digest}").data == png
    assert c.get(f"/portal/applications/{app_id}/files/.upload-crashed").status_code == 404


@pytest.mark.parametrize("where", ["os.replace", "write"])
def test_full_disk_gives_a_clear_chinese_error_and_stores_nothing(sec, monkeypatch, where):
    app_id = _draft(sec)
    before = _state(sec, app_id)
    c = sec.client("jx-citizen-wangfang")
    token_page = c.get(f"/portal/applications/{app_id}/step/materials")
    assert token_page.status_code == 200

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    import formflow.files.storage as storage_module

    if where == "os.replace":
        monkeypatch.setattr(storage_module.os, "replace", full)
    else:
        monkeypatch.setattr(storage_module.os, "fsync", full)
    r = _upload(sec, c, app_id, _png())
    monkeypatch.undo()
    assert r.status_code == 507
    assert "存储空间" in r.get_data(as_text=True)
    assert _state(sec, app_id) == before
    leftovers = [p for p in sec.p.storage.root.rglob("*") if p.is_file()]
    assert leftovers == []  # neither the blob nor its temp file


# --------------------------------------------------------------------------- races

def test_two_draft_saves_with_the_same_version_one_wins(sec):
    app_id = _draft(sec)
    v = _version(sec, app_id)
    url = f"/portal/applications/{app_id}/step/members"
    a, b = sec.client("jx-citizen-wangfang"), sec.client("jx-citizen-wangfang")
    ra = a.post(url, {"_action": "save", "_version": v, "members.applicant.basic.name": "甲"}, token_from=url)
    rb = b.post(url, {"_action": "save", "_version": v, "members.applicant.basic.name": "乙"}, token_from=url)
    assert ra.status_code == 302 and rb.status_code == 409
    assert "其他页面或设备" in rb.get_data(as_text=True)
    assert _state(sec, app_id)[3]["members"]["applicant"]["basic"]["name"] == "甲"


def test_saving_unchanged_data_moves_the_version_with_its_event(sec):
    """A save of what is already stored (a retry whose first answer was lost) still gets its own version:
    the next save from the same page is not a false conflict, and every event has its version."""
    app_id = _draft(sec)
    c = sec.client("jx-citizen-wangfang")
    assert _save(sec, c, app_id, "王芳").status_code == 302
    first = _state(sec, app_id)
    assert _save(sec, c, app_id, "王芳").status_code == 302
    again = _state(sec, app_id)
    assert again[3] == first[3]
    assert (again[1] - first[1], again[4] - first[4]) == (1, 1)


@pytest.mark.postgres
def test_two_submits_at_once_make_one_application(postgres_platform):
    """Two threads submit the same complete draft (two tabs: two tokens) on PostgreSQL: one submission."""
    import copy
    import importlib.util
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "portal"))  # conftest imports portal_files
    spec = importlib.util.spec_from_file_location(
        "portal_conftest_data", Path(__file__).resolve().parents[1] / "portal" / "conftest.py")
    portal = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(portal)
    p = postgres_platform
    with p.sessions.begin() as s:
        acc = s.scalar(select(Account).where(Account.username == "jx-citizen-wangfang"))
        draft = apps.start_draft(s, p.packs, applicant=acc, pack=JX_PACK, matter=MATTER,
                                 office_id=apps.selectable_offices(s, JX_PACK)[0].id, channel="jxzwfw")
        portal.attach_fixture_files(s, p.storage, draft.id)
        draft = apps.save_draft(s, draft.id, copy.deepcopy(portal.JIANGXI_OK), actor=acc,
                                expected_version=draft.version, today=portal.TODAY)
        app_id, version = draft.id, draft.version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(token):
        barrier.wait(10)
        try:
            with p.sessions.begin() as s:
                acc = s.scalar(select(Account).where(Account.username == "jx-citizen-wangfang"))
                apps.submit(s, app_id, actor=acc, expected_version=version, token=token, keys=p.keys,
                            today=portal.TODAY, calendar=CALENDAR)
            outcomes.append("submitted")
        except apps.ApplicationError as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=run, args=(f"tab-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count("submitted") == 1, outcomes
    with p.sessions() as s:
        submits = s.scalar(select(func.count()).select_from(Event).where(Event.application_id == app_id,
                                                                         Event.action == "submit"))
        assert submits == 1
        assert s.get(Application, app_id).status == "active"


# --------------------------------------------------------------------------- time zones and calendars

def test_deadline_dates_use_shanghai_whatever_the_server_zone():
    code = (
        "import os, time; os.environ['TZ'] = 'America/Los_Angeles'; time.tzset();\n"
        "from datetime import datetime, UTC\n"
        "from formflow.calendars import workdays\n"
        "at = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)\n"
        "assert datetime.now().astimezone().utcoffset().total_seconds() < 0\n"
        "print(workdays.today(now=at).isoformat())\n"
        "workdays._utcnow = lambda: at\n"
        "print(workdays.today().isoformat())\n"
    )
    env = dict(os.environ, PYTHONPATH=str(__import__("pathlib").Path(__file__).resolve().parents[2] / "platform"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2026-03-03", "2026-03-03"]  # Shanghai's next day, not Los Angeles' 2 March


def test_app_today_follows_shanghai(monkeypatch):
    from formflow.calendars import workdays

    monkeypatch.setattr(workdays, "_utcnow", lambda: datetime(2026, 3, 2, 23, 30, tzinfo=UTC))
    assert workdays.today() == date(2026, 3, 3)


def test_make_up_workday_on_a_weekend_counts_for_deadlines():
    saturday = date(2026, 10, 10)
    assert saturday.weekday() == 5 and CALENDAR.is_working_day(saturday)
    assert CALENDAR.add_days(date(2026, 9, 30), 3, "working") == saturday
