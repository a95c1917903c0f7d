"""Stored files: content-addressed, written atomically, never overwritten.

A file is written to a temporary name in the same folder, flushed and
fsync'd, then renamed to its SHA-256: a process killed mid-upload leaves at
most a stray temporary file, never a partial file under a real name, and the
database row is added only after the rename. A full disk gives `StorageFull`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from formflow.db.models import StoredFile


class StorageError(Exception):
    """A file could not be stored or read."""


class StorageFull(StorageError):
    """No space left on the storage device."""


@dataclass(frozen=True)
class LocalStorage:
    """Files under `root/ab/cd/<sha256>`."""

    root: Path

    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise StorageError(f"文件标识无效：{sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def write(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_of(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            if exc.errno == errno.ENOSPC:
                raise StorageFull("存储空间已满，文件未保存，请联系管理员") from exc
            raise StorageError(f"文件保存失败：{exc.strerror}") from exc
        return digest

    def read(self, sha256: str) -> bytes:
        try:
            return self.path_of(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise StorageError(f"文件 {sha256[:12]}… 不存在") from exc


def store(session: Session, storage: LocalStorage, data: bytes, media_type: str) -> StoredFile:
    """Write `data` and record it (idempotent: the same bytes give the same row)."""
    digest = storage.write(data)
    row = session.get(StoredFile, digest)
    if row is None:
        row = StoredFile(sha256=digest, size=len(data), media_type=media_type)
        session.add(row)
        session.flush()
    return row
