"""Issue 12 — virus scanning against a real clamd, started here with a signature database written here.

No signatures are downloaded: the database is a `.hdb` (MD5:size:name) holding the EICAR test file and
one PNG the tests treat as infected (an image must pass the upload checks before it is scanned).
Skips, saying why, only when Debian's clamav-daemon (/usr/sbin/clamd) is not installed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image
from test_bad_inputs import CJK, _draft, _snapshot, _upload

from formflow.db.models import Application, StoredFile
from formflow.files.scanning import CLEAN, INFECTED, UNAVAILABLE, ClamdScanner

CLAMD = shutil.which("clamd") or ("/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None)
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def _png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(out, format="PNG")
    return out.getvalue()


INFECTED_PNG = _png("purple")
CLEAN_PNG = _png("green")


@pytest.fixture(scope="module")
def clamd(tmp_path_factory):
    """A clamd on a Unix socket in a temporary folder; its address."""
    if CLAMD is None:
        pytest.skip("clamd is not installed (Debian: apt-get install clamav-daemon); virus scanning is untested")
    folder = tmp_path_factory.mktemp("clamd")
    (folder / "db").mkdir()
    lines = [f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Eicar-Test-Signature",
             f"{hashlib.md5(INFECTED_PNG).hexdigest()}:{len(INFECTED_PNG)}:Formflow.Test.Infected-PNG"]
    (folder / "db" / "formflow-test.hdb").write_text("\n".join(lines) + "\n")
    sock = folder / "clamd.sock"
    (folder / "clamd.conf").write_text(
        f"LocalSocket {sock}\nDatabaseDirectory {folder / 'db'}\nForeground yes\nLogFile {folder / 'clamd.log'}\n"
        f"PidFile {folder / 'clamd.pid'}\nTemporaryDirectory {folder}\nStreamMaxLength 20M\n")
    process = subprocess.Popen([CLAMD, "-c", str(folder / "clamd.conf")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if sock.exists():
                try:
                    with socket.socket(socket.AF_UNIX) as probe:
                        probe.connect(str(sock))
                        probe.sendall(b"zPING\0")
                        if probe.recv(16).startswith(b"PONG"):
                            break
                except OSError:
                    pass
            if process.poll() is not None:
                pytest.fail("clamd stopped: " + (folder / "clamd.log").read_text(errors="replace")[-800:])
            time.sleep(0.2)
        else:
            pytest.fail("clamd did not answer within 60 s")
        yield f"unix:{sock}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_clamd_finds_eicar_and_passes_clean_bytes(clamd):
    scanner = ClamdScanner(clamd)
    found = scanner.scan(EICAR)
    assert found.outcome == INFECTED and "Eicar" in found.detail
    assert scanner.scan(CLEAN_PNG).outcome == CLEAN


def test_unreachable_clamd_is_unavailable(tmp_path):
    assert ClamdScanner(f"unix:{tmp_path / 'nobody.sock'}").scan(CLEAN_PNG).outcome == UNAVAILABLE


def _scan_with(sec, address: str) -> None:
    ext = sec.app.extensions["formflow"]
    ext["settings"] = dataclasses.replace(ext["settings"], scanner="clamav", clamd_address=address)
    sec.app.extensions["formflow.services"].settings = ext["settings"]


def _stored(sec, data: bytes) -> StoredFile | None:
    with sec.p.sessions() as s:
        return s.get(StoredFile, hashlib.sha256(data).hexdigest())


def test_infected_upload_is_refused_naming_the_file(sec, clamd):
    _scan_with(sec, clamd)
    app_id = _draft(sec)
    before = _snapshot(sec, app_id)
    r = _upload(sec, app_id, INFECTED_PNG, "收入证明.png")
    assert r.status_code == 400
    body = r.get_data(as_text=True)
    assert "“收入证明.png”" in body and "病毒" in body and CJK.search(body)
    assert _snapshot(sec, app_id) == before and _stored(sec, INFECTED_PNG) is None


def test_clean_upload_is_stored_when_scanned(sec, clamd):
    _scan_with(sec, clamd)
    app_id = _draft(sec)
    citizen = sec.client("jx-citizen-wangfang")
    r = _upload(sec, app_id, CLEAN_PNG, "收入证明.png", citizen)
    assert r.status_code == 302
    stored = _stored(sec, CLEAN_PNG)
    assert stored is not None and stored.scan_status is None
    assert "病毒查杀暂时无法进行" not in citizen.get(r.headers["Location"]).get_data(as_text=True)


def test_upload_is_held_while_the_scanner_is_down_and_hidden_from_staff(sec, tmp_path):
    from sec_support import MZ, TODAY, create

    _scan_with(sec, f"unix:{tmp_path / 'down.sock'}")
    app_id = _draft(sec)
    citizen = sec.client("jx-citizen-wangfang")
    r = _upload(sec, app_id, CLEAN_PNG, "收入证明.png", citizen)
    assert r.status_code == 302
    assert _stored(sec, CLEAN_PNG).scan_status == "held"
    told = citizen.get(r.headers["Location"]).get_data(as_text=True)  # the citizen is told, naming the file
    assert "病毒查杀暂时无法进行" in told and "“收入证明.png”" in told
    # a submitted application's held file: its applicant still opens it, the reviewer is told to wait
    submitted = create(sec.p, MZ, today=TODAY, with_file=True)
    with sec.p.sessions.begin() as s:
        sha = s.get(Application, submitted).data["materials"]["id_card"][0]["sha256"]
        s.get(StoredFile, sha).scan_status = "held"
    staff = sec.client("mj-community").get(f"/desk/applications/{submitted}/files/{sha}")
    assert staff.status_code == 409 and "病毒" in staff.get_data(as_text=True)
    assert sec.client("mj-citizen-chen").get(f"/portal/applications/{submitted}/files/{sha}").status_code == 200
    with sec.p.sessions.begin() as s:
        s.get(StoredFile, sha).scan_status = None
    assert sec.client("mj-community").get(f"/desk/applications/{submitted}/files/{sha}").status_code == 200


def test_scanner_setting_is_checked_at_start():
    from formflow.config import Settings
    from formflow.services import plugin_problems

    problems = plugin_problems(dataclasses.replace(Settings(), scanner="clamav", clamd_address=""))
    assert any("FORMFLOW_CLAMD" in p for p in problems)
    assert not [p for p in plugin_problems(dataclasses.replace(Settings(), scanner="none")) if "CLAMD" in p]


def test_held_uploads_are_scanned_again_cleared_or_quarantined_with_a_history_event(sec, clamd, tmp_path):
    """The scanner was down at upload: `formflow tick`'s rescan lifts the hold on a clean file and quarantines
    an infected one, telling both parties in the application's history."""
    from sec_support import MZ, TODAY, create

    from formflow.db.models import ApplicationFile, Event
    from formflow.files.rescan import rescan_held
    from formflow.files.storage import store

    clean_app = create(sec.p, MZ, today=TODAY, with_file=True)
    infected_app = create(sec.p, MZ, today=TODAY)
    with sec.p.sessions.begin() as s:
        clean_sha = s.get(Application, clean_app).data["materials"]["id_card"][0]["sha256"]
        s.get(StoredFile, clean_sha).scan_status = "held"
        bad = store(s, sec.p.storage, INFECTED_PNG, "image/png")
        bad.scan_status = "held"
        s.add(ApplicationFile(application_id=infected_app, material="income_proof", sha256=bad.sha256,
                              original_name="收入证明.png", uploaded_by=None))
        bad_sha = bad.sha256
    down = rescan_held(sec.p.sessions, sec.p.storage, ClamdScanner(f"unix:{tmp_path / 'down.sock'}"))
    assert sorted(down.still_held) == sorted([clean_sha, bad_sha])  # no answer: both stay held
    report = rescan_held(sec.p.sessions, sec.p.storage, ClamdScanner(clamd))
    assert report.cleared == [clean_sha] and report.quarantined == {bad_sha: [infected_app]}
    with sec.p.sessions() as s:
        assert s.get(StoredFile, clean_sha).scan_status is None
        assert s.get(StoredFile, bad_sha).scan_status == "infected"
        event = s.query(Event).filter_by(application_id=infected_app, action="file_quarantined").one()
        assert event.note == "收入证明.png" and "Infected-PNG" in event.details["signature"]
    assert sec.client("mj-community").get(f"/desk/applications/{clean_app}/files/{clean_sha}").status_code == 200
    # nobody opens the quarantined file, the applicant included; the history says why
    refused = sec.client("mj-citizen-chen").get(f"/portal/applications/{infected_app}/files/{bad_sha}")
    assert refused.status_code == 409 and "病毒" in refused.get_data(as_text=True)
    page = sec.client("mj-citizen-chen").get(f"/portal/applications/{infected_app}").get_data(as_text=True)
    assert "发现病毒" in page
    assert rescan_held(sec.p.sessions, sec.p.storage, ClamdScanner(clamd)).cleared == []  # nothing held now


@pytest.mark.postgres
def test_two_nodes_rescanning_the_same_held_file_at_once_record_it_once(postgres_platform, clamd):
    """Two `formflow tick`s on two nodes rescan the same held, infected file at the same moment: the file is
    quarantined once and the application gets one history event, not two."""
    import threading

    from sec_support import MZ, TODAY, create
    from sqlalchemy import func, select

    from formflow.db.models import ApplicationFile, Event
    from formflow.files.rescan import rescan_held
    from formflow.files.storage import store

    p = postgres_platform
    app_id = create(p, MZ, today=TODAY)
    with p.sessions.begin() as s:
        bad = store(s, p.storage, INFECTED_PNG, "image/png")
        bad.scan_status = "held"
        s.add(ApplicationFile(application_id=app_id, material="income_proof", sha256=bad.sha256,
                              original_name="收入证明.png", uploaded_by=None))
    start, reports = threading.Barrier(2), []

    def node() -> None:
        start.wait()
        reports.append(rescan_held(p.sessions, p.storage, ClamdScanner(clamd)))

    threads = [threading.Thread(target=node) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(len(r.quarantined) for r in reports) == [0, 1]  # one node decided it, the other found it decided
    with p.sessions() as s:
        events = s.scalar(select(func.count()).select_from(Event).where(
            Event.application_id == app_id, Event.action == "file_quarantined"))
        assert events == 1 and s.get(StoredFile, hashlib.sha256(INFECTED_PNG).hexdigest()).scan_status == "infected"
