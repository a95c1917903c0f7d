"""Stored files: content-addressed, written atomically, never overwritten.

A file is written to a temporary name in the same folder, flushed and
fsync'd, then renamed to its SHA-256: a process killed mid-upload leaves at
most a stray temporary file, never a partial file under a real name, and the
database row is added only after the rename. A full disk gives `StorageFull`.

Local files are sealed with the data keys (`files.sealing`: envelope encryption,
a data key per file wrapped by the current master key); `read` decrypts, and files
stored before sealing are read as they are. `rotate` re-wraps every file's data
key with the current master key and seals plain ones in place.

Storage is a plugin kind (`storages`, see `formflow.plugins`): `local` keeps
the files under `<FORMFLOW_INSTANCE>/files`; a cluster registers an
object-store class with the same `write`/`read` and chooses it with
FORMFLOW_STORAGE. At start the chosen storage checks that it can write.
"""

from __future__ import annotations

import errno
import hashlib
import io
import mmap
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

from sqlalchemy.orm import Session

from formflow.db.models import StoredFile
from formflow.plugins import Registry
from formflow.text.catalogue import _, lazy


class StorageError(Exception):
    """A file could not be stored or read."""


class StorageFull(StorageError):
    """No space left on the storage device."""


#: What can be stored: bytes, or a seekable binary file (an upload spooled to disk, `files.buffers`).
Content = bytes | mmap.mmap | BinaryIO


class Storage(Protocol):
    """Where uploaded files go: bytes in, their SHA-256 out, and back (whole, or as a stream of pieces)."""

    def write(self, data: Content) -> str: ...

    def read(self, sha256: str) -> bytes: ...

    def open(self, sha256: str) -> Iterator[bytes]: ...



def digest_of(data: Content) -> str:
    """The SHA-256 of `data`, read in pieces when it is a file."""
    if isinstance(data, bytes | bytearray | memoryview | mmap.mmap):
        return hashlib.sha256(data).hexdigest()
    data.seek(0)
    digest = hashlib.sha256()
    while piece := data.read(1024 * 1024):
        digest.update(piece)
    return digest.hexdigest()


def reader_of(data: Content) -> BinaryIO:
    """`data` as a binary file positioned at its start (a mapped upload is read in place)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return io.BytesIO(data)
    data.seek(0)
    return cast(BinaryIO, data)


#: File storage implementations, by name (`settings.storage` chooses one).
storages: Registry[Storage] = Registry(lazy("file storage"), "FORMFLOW_STORAGE")


@storages.register("local")
@dataclass(frozen=True)
class LocalStorage:
    """Files under `root/ab/cd/<sha256>`."""

    root: Path

    @staticmethod
    def folder_of(settings: Any) -> Path:
        return Path(settings.instance_dir) / "files"

    @classmethod
    def check(cls, settings: Any) -> list[str]:
        """The folder must exist or be creatable, and take a file (tried for real: permissions, read-only disks)."""
        folder = cls.folder_of(settings)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder, prefix=".probe-"):
                pass
        except OSError as exc:
            return [_("FORMFLOW_INSTANCE: the file storage folder %(path)s cannot be written (%(reason)s)",
                      path=str(folder), reason=exc.strerror or exc)]
        return []

    @classmethod
    def from_settings(cls, settings: Any, **_context: Any) -> LocalStorage:
        return cls(cls.folder_of(settings))

    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise StorageError(_("Invalid file identifier: %(value)s", value=repr(sha256)))
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def write(self, data: Content) -> str:
        """Seal and store `data` piece by piece (a file is never read whole); its SHA-256."""
        from formflow.files.sealing import seal_stream
        from formflow.personal.crypto import active_keys

        digest = digest_of(data)
        target = self.path_of(digest)
        if target.exists():
            return digest
        self._put(target, seal_stream(active_keys(), reader_of(data), digest))
        return digest

    def _put(self, target: Path, blob: bytes | Iterator[bytes]) -> None:
        """`blob` (or its pieces) at `target`, atomically (temporary file, fsync, rename), 0600."""
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                for piece in [blob] if isinstance(blob, bytes) else blob:
                    fh.write(piece)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            if exc.errno == errno.ENOSPC:
                raise StorageFull(_("The storage is full; the file was not saved. Please tell the "
                                    "administrator")) from exc
            raise StorageError(_("The file could not be saved: %(reason)s", reason=exc.strerror)) from exc

    def read(self, sha256: str) -> bytes:
        return b"".join(self.open(sha256))

    def open(self, sha256: str) -> Iterator[bytes]:
        """The file's content in pieces, decrypted as it is read (header and key checked before this returns)."""
        from formflow.files.sealing import open_stream
        from formflow.personal.crypto import active_keys

        try:
            fh = self.path_of(sha256).open("rb")
        except FileNotFoundError as exc:
            raise StorageError(_("The file %(id)s… does not exist", id=sha256[:12])) from exc
        try:
            pieces = open_stream(active_keys(), fh, sha256)
        except BaseException:
            fh.close()
            raise
        return closing_pieces(pieces, fh)

    def rotate(self) -> int:
        """Re-wrap every file's data key with the current master key, sealing plain files; how many changed."""
        from formflow.files.sealing import is_sealed, rewrap, seal
        from formflow.personal.crypto import active_keys

        keys, changed = active_keys(), 0
        for path in self.root.glob("??/??/*"):
            if path.name.startswith(".") or len(path.name) != 64:
                continue
            blob = path.read_bytes()
            new = rewrap(keys, blob) if is_sealed(blob) else seal(keys, blob, path.name)
            if new is not blob:
                self._put(path, new)
                changed += 1
        return changed


def closing_pieces(pieces: Iterator[bytes], fh: BinaryIO) -> Iterator[bytes]:
    """`pieces`, closing `fh` when they are read to the end or dropped."""
    try:
        yield from pieces
    finally:
        fh.close()


def size_of(data: Content) -> int:
    if isinstance(data, bytes | bytearray | memoryview | mmap.mmap):
        return len(data)
    return data.seek(0, io.SEEK_END)


def store(session: Session, storage: Storage, data: Content, media_type: str) -> StoredFile:
    """Write `data` and record it (idempotent: the same bytes give the same row)."""
    digest = storage.write(data)
    row = session.get(StoredFile, digest)
    if row is None:
        row = StoredFile(sha256=digest, size=size_of(data), media_type=media_type)
        session.add(row)
        session.flush()
    return row


def _register_builtin_backends() -> None:
    """The object-storage backend registers itself (boto3 is imported only when it is used)."""
    from formflow.files import s3  # noqa: F401


_register_builtin_backends()
