"""Issue 12 — stored files are sealed (envelope encryption) and still served; old plain files still open."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.exceptions import InvalidTag
from sec_support import MZ, TODAY, create
from sqlalchemy import select
from test_bad_inputs import _draft, _png, _upload

from formflow.db.models import Notice
from formflow.files import sealing
from formflow.files.storage import LocalStorage
from formflow.personal.crypto import DataKeys, active_keys, install
from support import drain_outbox


def _blob(storage, sha: str) -> bytes:
    return storage.path_of(sha).read_bytes()


def test_uploaded_file_is_sealed_on_disk_and_served_in_the_clear(sec):
    data = _png((33, 21))
    app_id = _draft(sec)
    assert _upload(sec, app_id, data, "户口簿.png").status_code == 302
    sha = hashlib.sha256(data).hexdigest()
    blob = _blob(sec.p.storage, sha)
    assert sealing.is_sealed(blob) and data not in blob and b"PNG" not in blob[:64]
    assert sealing.key_id(blob) == active_keys().current
    r = sec.client("jx-citizen-wangfang").get(f"/portal/applications/{app_id}/files/{sha}")
    assert r.status_code == 200 and r.data == data  # positive control: the owner gets the original bytes


def test_notice_pdf_is_sealed_on_disk(sec):
    from desk_support import version_on

    app_id = create(sec.p, MZ, today=TODAY)
    c = sec.client("mj-community")
    page = c.get(f"/desk/applications/{app_id}").get_data(as_text=True)
    r = c.post(f"/desk/applications/{app_id}/act",
               {"stage": "community_acceptance", "action": "reject", "note": "材料不符", "confirmed": "1",
                "expected_version": str(version_on(page, "community_acceptance", "reject"))},
               token_from=f"/desk/applications/{app_id}")
    assert r.status_code == 302
    drain_outbox(sec.p)  # the notice is rendered after commit
    with sec.p.sessions() as s:
        notice = s.scalar(select(Notice).where(Notice.application_id == app_id))
    blob = _blob(sec.p.storage, notice.sha256)
    assert sealing.is_sealed(blob) and b"%PDF" not in blob
    assert sec.p.storage.read(notice.sha256).startswith(b"%PDF")


def test_plain_files_of_an_older_store_still_open_and_rotation_seals_them(tmp_path):
    storage = LocalStorage(tmp_path)
    data = b"%PDF-1.4 old plain file"
    sha = hashlib.sha256(data).hexdigest()
    storage.path_of(sha).parent.mkdir(parents=True)
    storage.path_of(sha).write_bytes(data)
    assert storage.read(sha) == data
    assert storage.rotate() == 1
    assert sealing.is_sealed(_blob(storage, sha)) and storage.read(sha) == data


def test_rotation_rewraps_with_the_new_key_and_the_old_key_can_go(tmp_path):
    old = active_keys()
    storage = LocalStorage(tmp_path)
    data = b"\x89PNG scan"
    sha = storage.write(data)
    first = _blob(storage, sha)
    new_key = "2:" + base64.b64encode(b"n" * 32).decode()
    old_spec = ",".join(f"{k}:{base64.b64encode(v).decode()}" for k, v in old.keys.items())
    try:
        install(DataKeys.parse(f"{new_key},{old_spec}"))
        assert storage.rotate() == 1
        rewrapped = _blob(storage, sha)
        assert sealing.key_id(rewrapped) == 2 and rewrapped[-len(data) - 16:] == first[-len(data) - 16:]
        install(DataKeys.parse(new_key))  # the old master key retired: the file still opens
        assert storage.read(sha) == data
    finally:
        install(old)


def test_a_sealed_file_moved_under_another_name_does_not_open(tmp_path):
    storage = LocalStorage(tmp_path)
    sha = storage.write(b"one")
    other = hashlib.sha256(b"two").hexdigest()
    with pytest.raises(InvalidTag):
        sealing.open_blob(active_keys(), _blob(storage, sha), other)
