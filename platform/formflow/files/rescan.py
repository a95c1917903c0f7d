"""Held uploads scanned again once the virus scanner answers.

An upload accepted while the scanner was down is stored `held`: its applicant
sees it, staff are asked to wait (`usecases.serving`). `rescan_held` (run by
`formflow tick`) scans each held file again. Clean: the hold is lifted. Found
infected: the file is quarantined (`infected`, opened by nobody) and every
application it is attached to gets a history event naming the material, so
the applicant and the reviewers see that it must be uploaded again. Still no
answer: it stays held for the next run. Each file is decided in its own
transaction, decided by one conditional update (`held` → the outcome), so two nodes
rescanning at once record it once, and one failure does not undo the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from formflow.db.models import Application, ApplicationFile, Event, StoredFile
from formflow.files.scanning import CLEAN, HELD, INFECTED, UNAVAILABLE, Scanner

#: `stored_files.scan_status` of a file a later scan found infected: nobody may open it.
QUARANTINED = "infected"
#: The history event written on each application holding a quarantined file.
QUARANTINE_EVENT = "file_quarantined"


@dataclass
class RescanReport:
    """What one run decided: files cleared, files quarantined (with their applications), files still held."""

    cleared: list[str] = field(default_factory=list)
    quarantined: dict[str, list[int]] = field(default_factory=dict)
    still_held: list[str] = field(default_factory=list)


def rescan_held(sessions: Any, storage: Any, scanner: Scanner, *, limit: int | None = None) -> RescanReport:
    """Scan every held file again (at most `limit`); see the module docstring."""
    report = RescanReport()
    with sessions() as db:
        shas = list(db.scalars(select(StoredFile.sha256).where(StoredFile.scan_status == HELD)
                               .order_by(StoredFile.created_at).limit(limit)))
    for sha in shas:
        verdict = scanner.scan(storage.read(sha))
        if verdict.outcome == UNAVAILABLE:
            report.still_held.append(sha)
            continue
        outcome = None if verdict.outcome == CLEAN else QUARANTINED if verdict.outcome == INFECTED else HELD
        with sessions.begin() as db:
            # one conditional update decides the file: a node that rescans it at the same moment changes nothing
            decided = db.execute(update(StoredFile).where(StoredFile.sha256 == sha, StoredFile.scan_status == HELD)
                                 .values(scan_status=outcome).execution_options(synchronize_session=False))
            if decided.rowcount != 1 or outcome == HELD:
                continue
            if outcome is None:
                report.cleared.append(sha)
            else:
                report.quarantined[sha] = _record(db, sha, verdict.detail)
    return report


def _record(db: Any, sha: str, signature: str) -> list[int]:
    """A history event on every application the file is attached to; their ids."""
    ids = []
    for attached in db.scalars(select(ApplicationFile).where(ApplicationFile.sha256 == sha,
                                                             ApplicationFile.replaced_at.is_(None))):
        app = db.get(Application, attached.application_id)
        if app is None:
            continue
        db.add(Event(application_id=app.id, actor_id=None, actor_role=None, action=QUARANTINE_EVENT,
                     from_stage=app.stage, to_stage=app.stage, note=attached.original_name,
                     details={"sha256": sha, "material": attached.material, "signature": signature}))
        ids.append(app.id)
    return ids


__all__ = ["QUARANTINED", "QUARANTINE_EVENT", "RescanReport", "rescan_held"]
