"""Issue 12 — the plaintext scan: canary values go in through the web and the API, through every flow that
stores data, and then the SQLite file (or a `pg_dump` of the PostgreSQL database), the file store and the
captured logs are searched byte by byte.

Zero hits are allowed outside masked forms (a mask never holds the whole canary). The positive control
plants one canary in the clear (a table the application does not seal) and checks the scan finds it.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text
from test_bad_inputs import _api, _draft, _upload, _version

sys.path.append(str(Path(__file__).resolve().parents[1] / "allocation"))

NAME = "甄金丝雀"
ID_NUMBER = "441402199001018816"
MOBILE = "13955501234"
INCOME = "4321.57"
NOTE = "核实电话13955501234"


def _canary_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (37, 29), (12, 34, 56)).save(out, format="PNG")
    return out.getvalue()


PNG = _canary_png()


def _database_bytes(sec) -> dict[str, bytes]:
    """The database as stored: the SQLite file and its WAL, or a plain-SQL `pg_dump` of the PostgreSQL one."""
    url = sec.p.engine.url
    if url.get_backend_name() == "postgresql":
        import shutil
        import subprocess

        dump = subprocess.run([shutil.which("pg_dump") or "pg_dump", "--no-owner", "-h", url.host or "127.0.0.1",
                               "-p", str(url.port or 5432), "-U", url.username or "postgres", url.database],
                              capture_output=True, timeout=120, check=True)
        return {"pg_dump": dump.stdout}
    with sec.p.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database = Path(url.database)
    places = {str(database): database.read_bytes()}
    for extra in (Path(str(database) + "-wal"),):
        if extra.exists():
            places[str(extra)] = extra.read_bytes()
    return places


def _scan(sec, logs: str) -> list[str]:
    """Every (place, canary) found in the clear (in a dump, also as the hex of a `bytea`)."""
    places = _database_bytes(sec)
    root = getattr(sec.p.storage, "root", None)
    for path in (root.rglob("*") if root else []):
        if path.is_file():
            places[str(path)] = path.read_bytes()
    places["logs"] = logs.encode()
    canaries = {"name": NAME.encode(), "id": ID_NUMBER.encode(), "mobile": MOBILE.encode(),
                "income": INCOME.encode(), "file": PNG[16:80]}
    return [f"{where}: {what}" for where, blob in places.items() for what, needle in canaries.items()
            if needle in blob or (where == "pg_dump" and needle.hex().encode() in blob)]


def _run_every_flow(sec) -> None:
    from alloc_support import SUBSIDY, alloc, approved, filed
    from desk_support import sample_data, version_on
    from sec_support import MZ, TODAY, create

    from formflow.allocation import subsidy
    from formflow.api import idempotency
    from formflow.db.models import Account

    # web: a draft saved with the canary mobile and income, and an upload
    app_id = _draft(sec)
    c = sec.client("jx-citizen-wangfang")
    url = f"/portal/applications/{app_id}/step/members"
    assert c.post(url, {"_action": "save", "_version": _version(sec, app_id),
                        "members.applicant.basic.mobile": MOBILE,
                        "members.applicant.employment.monthly_income": INCOME}, token_from=url).status_code == 302
    assert _upload(sec, app_id, PNG, "户口簿.png").status_code == 302
    # API: the same draft's step saved, and an idempotent response stored
    api = _api(sec)
    assert api.patch(f"/applications/{app_id}/steps/members", {"version": int(_version(sec, app_id)), "data": {
        "applicant": {"basic": {"mobile": MOBILE}}}}).status_code in (200, 422)
    with sec.app.test_request_context("/api/v1/applications/1/submit", method="POST"):
        idempotency.run(sec.p.sessions, 1, "scan-key", {}, lambda db: (200, {
            "name": NAME, "id_number": ID_NUMBER, "mobile": MOBILE, "income": INCOME}))
    # a submitted application with the canaries, rejected with a note (history note, notice PDF)
    data = sample_data()
    data["members"]["applicant"].update(name=NAME, id_number=ID_NUMBER, mobile=MOBILE, monthly_income=INCOME)
    submitted = create(sec.p, MZ, today=TODAY, data=data, with_file=True)
    desk = sec.client("mj-community")
    page = desk.get(f"/desk/applications/{submitted}").get_data(as_text=True)
    assert desk.post(f"/desk/applications/{submitted}/act", {
        "stage": "community_acceptance", "action": "reject", "note": NOTE, "confirmed": "1",
        "expected_version": str(version_on(page, "community_acceptance", "reject"))},
        token_from=f"/desk/applications/{submitted}").status_code == 302
    # allocation: a household filed from an approval, and the subsidy roster built
    approved(sec.p, on=date(2026, 1, 20), mode=SUBSIDY, size=2, income=float(INCOME), name=NAME,
             id_number=ID_NUMBER)
    filed(sec.p, date(2026, 2, 1))
    with sec.p.sessions.begin() as db:
        actor = db.scalar(select(Account).where(Account.username == "mj-housing"))
        subsidy.build_roster(db, alloc(sec.p), "2026-Q1", actor, today=date(2026, 3, 20))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def scanned(request):
    """The security suite's platform on SQLite, and the same on PostgreSQL (scanned through `pg_dump`)."""
    if request.param == "sqlite":
        return request.getfixturevalue("sec")
    from sec_support import Sec

    from support import WebClient, make_web_app

    p = request.getfixturevalue("postgres_platform")
    return Sec(p, WebClient(make_web_app(p)))


def test_no_canary_in_the_clear_anywhere(scanned, caplog):
    caplog.set_level(logging.DEBUG)
    _run_every_flow(scanned)
    hits = _scan(scanned, caplog.text)
    assert hits == [], hits


def test_the_scan_finds_a_canary_left_in_the_clear(scanned, caplog):
    """Positive control: a canary written in the clear (a plain column, a plain file, a log line) is found."""
    sec = scanned
    with sec.p.engine.begin() as conn:
        conn.execute(text("UPDATE offices SET name = :n WHERE id = (SELECT min(id) FROM offices)"), {"n": NAME})
    root = sec.p.storage.root
    plain = root / "00" / "00" / hashlib.sha256(b"x").hexdigest()
    plain.parent.mkdir(parents=True, exist_ok=True)
    plain.write_bytes(PNG)
    logging.getLogger("formflow.test").warning("mobile %s", MOBILE)
    hits = _scan(sec, caplog.text)
    assert any(h.endswith(": name") for h in hits) and any(h.endswith(": file") for h in hits)
    assert "logs: mobile" in hits
