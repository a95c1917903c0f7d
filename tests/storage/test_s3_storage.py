"""Object storage over S3 against a real S3-protocol server: shared by every node, migrated from disk."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from formflow.config import Settings
from formflow.files.s3 import S3Storage
from formflow.files.storage import StorageError, storages
from formflow.plugins import PluginProblem
from support import TEST_KEYS, WebClient, demo_password, make_web_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "desk"))  # the desk's application builder
from desk_support import PNG, create  # noqa: E402


def test_files_round_trip_and_are_content_addressed(s3_env):
    storage = storages.create("s3", Settings())
    data = b"%PDF-1.4 a notice\n"
    sha = storage.write(data)
    assert sha == hashlib.sha256(data).hexdigest() and storage.read(sha) == data
    assert storage.write(data) == sha  # the same bytes twice: one object
    raw = storage.client.get_object(Bucket=storage.bucket, Key=storage.key_of(sha))["Body"].read()
    assert data not in raw and raw.startswith(b"FFS2")  # the bucket holds only ciphertext
    with pytest.raises(StorageError):
        storage.read("0" * 64)


def test_a_wrong_bucket_or_endpoint_stops_the_start_naming_the_setting(s3_env, monkeypatch):
    monkeypatch.setenv("FORMFLOW_S3_BUCKET", "no-such-bucket")
    with pytest.raises(PluginProblem) as refused:
        storages.create("s3", Settings())
    assert "FORMFLOW_S3_BUCKET" in str(refused.value) and "no-such-bucket" in str(refused.value)
    monkeypatch.delenv("FORMFLOW_S3_BUCKET")
    assert any("FORMFLOW_S3_BUCKET" in p for p in storages.problems("s3", Settings()))


def test_a_file_written_by_one_node_is_served_by_another(s3_env, sqlite_platform):
    """Node A stores the upload; node B, another app with its own S3 client, serves it on the desk."""
    p = sqlite_platform
    p.storage = S3Storage.from_settings(Settings())  # node A
    app_id = create(p, today=date(2026, 3, 2), with_file=True)
    os.environ["FORMFLOW_STORAGE"] = "s3"
    try:
        node_b = make_web_app(p)
        node_b.extensions["formflow.services"].storage = storages.create("s3", Settings())
    finally:
        del os.environ["FORMFLOW_STORAGE"]
    desk = WebClient(node_b)
    desk.login("mj-community", demo_password("mj-community"))
    served = desk.get(f"/desk/applications/{app_id}/files/{hashlib.sha256(PNG).hexdigest()}")
    assert served.status_code == 200 and served.data == PNG and served.mimetype == "image/png"


def test_migrate_copies_every_file_verified_and_resumes(s3_env, sqlite_platform):
    p = sqlite_platform  # files on the local disk (the embedded default)
    first = create(p, today=date(2026, 3, 2), with_file=True)
    assert first
    env = dict(os.environ, FORMFLOW_DATABASE_URL=p.url, FORMFLOW_INSTANCE=str(p.instance),
               FORMFLOW_DATA_KEYS=TEST_KEYS)  # the same keys as the platform: files are sealed with them
    cmd = [sys.executable, "-m", "formflow.cli", "storage", "migrate", "--to", "s3", "--from", "local"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "已复制 1" in done.stdout, done.stdout
    target = S3Storage.from_settings(Settings())
    assert target.read(hashlib.sha256(PNG).hexdigest()) == PNG
    again = subprocess.run(cmd, capture_output=True, text=True, env=env)  # resumable: nothing copied twice
    assert again.returncode == 0 and "已复制 0" in again.stdout, again.stdout
