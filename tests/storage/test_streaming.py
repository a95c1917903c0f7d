"""Large files go through the storage and out to the reader in pieces: memory stays flat whatever the size."""

from __future__ import annotations

import hashlib
import io
import mmap
import os
import sys
import tracemalloc
from datetime import date
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from formflow.config import Settings
from formflow.db.models import ApplicationFile
from formflow.files import sealing
from formflow.files.buffers import IN_MEMORY, receive
from formflow.files.s3 import S3Storage
from formflow.files.storage import LocalStorage, store
from formflow.personal.crypto import active_keys
from support import WebClient, demo_password, make_web_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "desk"))  # the desk's application builder
from desk_support import create  # noqa: E402

MIB = 1024 * 1024
SIZE = 40 * MIB


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    """A 40 MiB file on disk, mapped read-only (as `files.buffers.receive` hands an upload to the storage)."""
    path = tmp_path_factory.mktemp("big") / "scan.pdf"
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        for _ in range(SIZE // MIB):
            piece = os.urandom(MIB)
            digest.update(piece)
            fh.write(piece)
    with path.open("rb") as fh:
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    yield mapped, digest.hexdigest()
    mapped.close()


def _peak(work) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _read_all(pieces) -> str:
    digest = hashlib.sha256()
    for piece in pieces:
        digest.update(piece)
    return digest.hexdigest()


def test_a_40_mib_file_is_sealed_to_disk_and_read_back_with_flat_memory(tmp_path, big_file):
    mapped, expected = big_file
    storage = LocalStorage(tmp_path)
    sha, written_peak = _peak(lambda: storage.write(mapped))
    assert sha == expected
    read_sha, read_peak = _peak(lambda: _read_all(storage.open(sha)))
    assert read_sha == expected
    # the whole file would be 40 MiB; a chunk is 64 KiB
    assert written_peak < 2 * MIB, written_peak
    assert read_peak < 2 * MIB, read_peak
    blob = storage.path_of(sha).read_bytes()
    assert blob.startswith(sealing.MAGIC) and mapped[:4096] not in blob


def test_a_40_mib_file_goes_to_the_bucket_by_multipart_with_memory_bounded_by_one_part(s3_env, big_file):
    mapped, expected = big_file
    storage = S3Storage.from_settings(Settings())
    sha, written_peak = _peak(lambda: storage.write(mapped))
    assert sha == expected
    head = storage.client.head_object(Bucket=storage.bucket, Key=storage.key_of(sha))
    assert "-" in head["ETag"]  # a multipart upload: "<md5 of the parts' md5s>-<parts>"
    read_sha, read_peak = _peak(lambda: _read_all(storage.open(sha)))
    assert read_sha == expected
    assert written_peak < 24 * MIB, written_peak  # two 5 MiB parts in flight (with botocore copies), not the file
    assert read_peak < 4 * MIB, read_peak


def test_reordered_or_cut_chunks_do_not_open():
    data = os.urandom(3 * sealing.CHUNK + 10)
    sha = hashlib.sha256(data).hexdigest()
    blob = sealing.seal(active_keys(), data, sha)
    header, step = 4 + 61 + 7 + 4, sealing.CHUNK + 16
    chunks = [blob[header + i * step: header + (i + 1) * step] for i in range(4)]
    assert sealing.open_blob(active_keys(), blob, sha) == data
    swapped = blob[:header] + chunks[1] + chunks[0] + chunks[2] + chunks[3]
    with pytest.raises(InvalidTag):
        sealing.open_blob(active_keys(), swapped, sha)
    cut = blob[:header] + chunks[0] + chunks[1] + chunks[2]  # the last chunk dropped at a chunk boundary
    with pytest.raises(InvalidTag):
        sealing.open_blob(active_keys(), cut, sha)


def test_files_sealed_whole_by_an_earlier_version_still_open():
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    keys, data = active_keys(), b"%PDF-1.4 sealed before chunking"
    sha = hashlib.sha256(data).hexdigest()
    data_key, nonce, wrap_nonce = AESGCM.generate_key(bit_length=256), os.urandom(12), os.urandom(12)
    wrapped = bytes([keys.current]) + wrap_nonce + AESGCM(keys.keys[keys.current]).encrypt(wrap_nonce, data_key,
                                                                                          b"FFS1")
    old = b"FFS1" + wrapped + nonce + AESGCM(data_key).encrypt(nonce, data, sha.encode())
    assert sealing.open_blob(keys, old, sha) == data
    assert b"".join(sealing.open_stream(keys, io.BytesIO(old), sha)) == data


def test_an_upload_is_read_at_most_one_byte_past_the_limit_and_large_ones_are_spooled_to_disk():
    stream = io.BytesIO(b"x" * (3 * MIB))
    small = receive(stream, limit=100)
    assert len(small) == 101 and stream.tell() == 101  # refused by its size without reading the rest
    stream.seek(0)
    large = receive(stream, limit=5 * MIB)
    assert isinstance(large, mmap.mmap) and len(large) == 3 * MIB
    assert isinstance(receive(io.BytesIO(b"y" * (IN_MEMORY - 1)), limit=5 * MIB), bytes)


def test_the_desk_download_of_a_40_mib_file_is_streamed_with_its_length(sqlite_platform, big_file):
    mapped, sha = big_file
    p = sqlite_platform
    app_id = create(p, today=date(2026, 3, 2))
    with p.sessions.begin() as s:
        store(s, p.storage, mapped, "application/pdf")
        s.add(ApplicationFile(application_id=app_id, material="id_card", sha256=sha, original_name="扫描件.pdf",
                              uploaded_by=None))
    desk = WebClient(make_web_app(p))
    desk.login("mj-community", demo_password("mj-community"))
    response = desk.get(f"/desk/applications/{app_id}/files/{sha}", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Length"] == str(SIZE)
    got, peak = _peak(lambda: _read_all(response.response))
    response.close()
    assert got == sha
    assert peak < 4 * MIB, peak
