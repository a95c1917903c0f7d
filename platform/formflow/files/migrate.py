"""Moving every stored file to another storage (`formflow storage migrate --to s3`).

Resumable: a file the target already holds is not copied again. Verified:
every file is read back from the target and its SHA-256 compared with its
name; a mismatch or a missing source file is reported by id and the run goes
on. Nothing in the database changes (files are content-addressed: the same
id in any storage), so switching `FORMFLOW_STORAGE` afterwards is the whole
move.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from formflow.db.models import StoredFile
from formflow.files.storage import StorageError


@dataclass
class MigrationReport:
    copied: int = 0
    present: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.copied + self.present + len(self.failed)


def _has(storage: Any, sha256: str) -> bool:
    exists = getattr(storage, "exists", None)
    if callable(exists):
        return bool(exists(sha256))
    path_of = getattr(storage, "path_of", None)
    return bool(path_of(sha256).exists()) if callable(path_of) else False


def file_ids(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as db:
        return list(db.scalars(select(StoredFile.sha256).order_by(StoredFile.sha256)))


def migrate(sessions: sessionmaker[Session], source: Any, target: Any,
            progress: Callable[[str], None] | None = None) -> MigrationReport:
    """Copy every recorded file from `source` to `target`, verifying each; `progress(id)` after each."""
    report = MigrationReport()
    for sha in file_ids(sessions):
        try:
            if _has(target, sha):
                report.present += 1
            else:
                data = source.read(sha)
                if hashlib.sha256(data).hexdigest() != sha:
                    raise StorageError(f"source {sha[:12]}… does not match its hash")
                target.write(data)
                report.copied += 1
            if hashlib.sha256(target.read(sha)).hexdigest() != sha:
                raise StorageError(f"target {sha[:12]}… does not match its hash")
        except StorageError as exc:
            report.failed[sha] = str(exc)
        if progress is not None:
            progress(sha)
    return report
