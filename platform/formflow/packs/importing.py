"""Importing a configuration bundle: what it would change in this environment, then publishing it.

`plan` checks a verified bundle the way `formflow check` does — against a temporary configuration root
made of this environment's root with the bundle laid over it (the bundle's packs replace the target's
files of those packs; demo files the bundle does not carry are kept) — and compares it with the target
database: the new versions of each matter's documents (content hashes, as `packs.versions` pins them),
parameters changed, offices added or removed, files added, changed or removed, and how many in-flight
applications stay on the versions they pinned.

`publish` does it: in one transaction it syncs the packs' offices, stores the new versions
(`versions.pin`) and records the import (`ConfigImport`); inside that transaction the files are written
into the configuration root (each through a temporary file renamed into place) and put back as they were
if anything fails before the commit. In-flight applications keep their pinned versions; applications
started afterwards pin the new ones.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from formflow.db.models import Application, ConfigImport, Office, PackVersion, utcnow
from formflow.packs.bundle import DEMO_FILES, PACK_FOLDERS, Bundle, BundleError, pack_files
from formflow.packs.loader import PackSet, load_packs
from formflow.packs.problems import Problem
from formflow.packs.versions import _documents, content_hash, pin
from formflow.text.catalogue import _

#: Application states that are still moving (or may yet be submitted) under their pinned versions.
IN_FLIGHT = ("draft", "active")


@dataclass
class VersionChange:
    """One document of one matter whose content hash changes (`old` None: the matter is new)."""

    pack: str
    matter: str
    kind: str
    old: str | None
    new: str
    #: the new content is already in pack_versions (an earlier import or an application pinned it)
    published: bool


@dataclass
class ParameterChange:
    pack: str
    id: str
    old: Any
    new: Any
    added: bool = False
    removed: bool = False


@dataclass
class OfficeChange:
    pack: str
    id: str
    name: str


@dataclass
class InFlight:
    pack: str
    matter: str
    submitted: int
    drafts: int


@dataclass
class Plan:
    """What importing a bundle would change here; `problems` empty means it can be imported."""

    bundle: Bundle
    problems: list[Problem] = field(default_factory=list)
    versions: list[VersionChange] = field(default_factory=list)
    parameters: list[ParameterChange] = field(default_factory=list)
    offices_added: list[OfficeChange] = field(default_factory=list)
    offices_removed: list[OfficeChange] = field(default_factory=list)
    files_added: list[str] = field(default_factory=list)
    files_changed: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)
    in_flight: list[InFlight] = field(default_factory=list)
    packset: PackSet | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def packs(self) -> list[str]:
        return self.bundle.packs

    @property
    def changed(self) -> bool:
        return bool(self.files_added or self.files_changed or self.files_removed)

    @property
    def in_flight_total(self) -> int:
        return sum(row.submitted + row.drafts for row in self.in_flight)

    def summary(self) -> dict[str, Any]:
        """The plan as JSON (recorded with the import)."""
        return {
            "packs": self.packs,
            "versions": [asdict(v) for v in self.versions],
            "parameters": [asdict(p) for p in self.parameters],
            "offices_added": [asdict(o) for o in self.offices_added],
            "offices_removed": [asdict(o) for o in self.offices_removed],
            "files_added": self.files_added,
            "files_changed": self.files_changed,
            "files_removed": self.files_removed,
            "in_flight": [asdict(row) for row in self.in_flight],
            "created_at": self.bundle.manifest.get("created_at"),
            "formflow_version": self.bundle.manifest.get("formflow_version"),
        }

    def refusal(self) -> BundleError:
        """The refusal naming every file that fails its check."""
        listing = "".join(f"\n  {problem}" for problem in self.problems)
        return BundleError(_("%(file)s cannot be imported: %(count)s problem(s) in its files:%(listing)s",
                             file=self.bundle.name, count=len(self.problems), listing=listing),
                           file=self.bundle.name, problems=[str(p) for p in self.problems])


# ---------------------------------------------------------------------------------------------------- files


def _replaced(root: Path, bundle: Bundle) -> list[str]:
    """The target's files of the bundle's packs that the bundle replaces (demo files it lacks are kept)."""
    kept = set() if bundle.with_demo else {f"seeds/{p}/{name}" for p in bundle.packs for name in DEMO_FILES}
    found = []
    for pack in bundle.packs:
        for rel in pack_files(root, pack, with_demo=True):
            if rel not in kept:
                found.append(rel)
    return found


@contextmanager
def staged_root(root: Path, bundle: Bundle) -> Iterator[Path]:
    """A temporary configuration root: `root` with the bundle's packs laid over it (removed on exit)."""
    with tempfile.TemporaryDirectory(prefix="formflow-bundle-") as temp:
        staged = Path(temp)
        for folder in PACK_FOLDERS:
            source = root / folder
            target = staged / folder
            target.mkdir()
            if not source.is_dir():
                continue
            for entry in source.iterdir():
                if entry.name in bundle.packs:
                    if entry.is_dir():
                        shutil.copytree(entry, target / entry.name)
                elif folder == "renderers":
                    (target / entry.name).symlink_to(entry)  # templates and fonts: read, never changed here
                elif entry.is_dir():
                    shutil.copytree(entry, target / entry.name)
                else:
                    shutil.copy2(entry, target / entry.name)
        for rel in _replaced(staged, bundle):
            (staged / rel).unlink()
        for rel, data in bundle.files.items():
            path = staged / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        yield staged


def _file_changes(root: Path, bundle: Bundle) -> tuple[list[str], list[str], list[str]]:
    added, changed = [], []
    for rel, data in sorted(bundle.files.items()):
        path = root / rel
        if not path.is_file():
            added.append(rel)
        elif path.read_bytes() != data:
            changed.append(rel)
    removed = sorted(set(_replaced(root, bundle)) - set(bundle.files))
    return added, changed, removed


class _Writer:
    """Writes the bundle's files into the root (temporary file, then rename) and can put them back."""

    def __init__(self, root: Path, writes: dict[str, bytes], removals: list[str]) -> None:
        self.root = root
        self.writes = writes
        self.removals = removals
        self.before: dict[str, bytes | None] = {}

    def apply(self) -> None:
        staged: list[tuple[Path, Path]] = []
        try:
            for rel, data in self.writes.items():  # every new content on disk before anything is replaced
                path = self.root / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                temp = path.with_name(f".{path.name}.import-{os.getpid()}")
                with open(temp, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                staged.append((temp, path))
            for rel in [*self.writes, *self.removals]:
                path = self.root / rel
                self.before[rel] = path.read_bytes() if path.is_file() else None
            for temp, path in staged:
                temp.replace(path)
            for rel in self.removals:
                (self.root / rel).unlink(missing_ok=True)
        except BaseException:
            for temp, _path in staged:
                temp.unlink(missing_ok=True)
            self.restore()
            raise

    def restore(self) -> None:
        for rel, data in self.before.items():
            path = self.root / rel
            if data is None:
                path.unlink(missing_ok=True)
            else:
                temp = path.with_name(f".{path.name}.restore-{os.getpid()}")
                temp.write_bytes(data)
                temp.replace(path)


# ---------------------------------------------------------------------------------------------------- the diff


def _content(doc: Any) -> dict[str, Any]:
    return doc.content if doc is not None and isinstance(doc.content, dict) else {}


def _hashes(packset: PackSet, pack: str, matter: str) -> dict[str, str]:
    """The content hash of each document of a matter, as `versions.pin` would store it."""
    found: dict[str, str] = {}
    for kind, content in _documents(packset, pack, matter).items():
        if kind == "tables":
            for tid, table in content.items():
                found[f"table:{tid}"] = content_hash(table)
        elif content is not None:
            found[kind] = content_hash(content)
    return found


def _old_hashes(packset: PackSet | None, pack: str, matter: str) -> dict[str, str]:
    if packset is None or pack not in packset.packs or matter not in packset.packs[pack].matters:
        return {}
    try:
        return _hashes(packset, pack, matter)
    except Exception:  # noqa: BLE001 - the target's own files are broken: every document counts as new
        return {}


def _offices(nodes: Any) -> Iterator[tuple[str, str]]:
    for node in nodes or []:
        if isinstance(node, dict) and node.get("id") is not None:
            yield str(node["id"]), str(node.get("name", node["id"]))
            yield from _offices(node.get("children"))


def _parameters(packset: PackSet | None, pack: str) -> dict[str, Any]:
    if packset is None or pack not in packset.packs:
        return {}
    params = _content(packset.packs[pack].parameters).get("parameters")
    return params if isinstance(params, dict) else {}


def _value(param: Any) -> Any:
    return param.get("value") if isinstance(param, dict) else param


def plan(session: Session, config_root: Path, bundle: Bundle) -> Plan:
    """Check `bundle` against a temporary root (this root with the bundle over it) and this database."""
    result = Plan(bundle)
    with staged_root(config_root, bundle) as staged:
        packset = load_packs(staged, bundle.packs)
    result.problems = list(packset.problems)
    result.packset = packset
    result.files_added, result.files_changed, result.files_removed = _file_changes(config_root, bundle)
    if not result.ok:
        return result
    present = [p for p in bundle.packs if (config_root / "schemas" / p / "pack.yaml").is_file()]
    current = load_packs(config_root, present) if present else None
    for pack_id in bundle.packs:
        pack = packset.packs[pack_id]
        for matter_id in pack.matters:
            old = _old_hashes(current, pack_id, matter_id)
            for kind, digest in _hashes(packset, pack_id, matter_id).items():
                if old.get(kind) != digest:
                    result.versions.append(VersionChange(pack_id, matter_id, kind, old.get(kind), digest,
                                                         session.get(PackVersion, digest) is not None))
        before, after = _parameters(current, pack_id), _parameters(packset, pack_id)
        for pid in sorted(set(before) | set(after)):
            if pid not in before:
                result.parameters.append(ParameterChange(pack_id, pid, None, _value(after[pid]), added=True))
            elif pid not in after:
                result.parameters.append(ParameterChange(pack_id, pid, _value(before[pid]), None, removed=True))
            elif _value(before[pid]) != _value(after[pid]):
                result.parameters.append(ParameterChange(pack_id, pid, _value(before[pid]), _value(after[pid])))
        stored = dict(session.execute(select(Office.id, Office.name).where(Office.pack == pack_id)).all())
        wanted = dict(_offices(_content(pack.offices).get("offices")))
        result.offices_added += [OfficeChange(pack_id, oid, name) for oid, name in wanted.items() if oid not in stored]
        result.offices_removed += [OfficeChange(pack_id, oid, name) for oid, name in stored.items()
                                   if oid not in wanted]
    counts = session.execute(
        select(Application.pack, Application.matter, Application.status, func.count())
        .where(Application.pack.in_(bundle.packs), Application.status.in_(IN_FLIGHT))
        .group_by(Application.pack, Application.matter, Application.status)
    ).all()
    rows: dict[tuple[str, str], InFlight] = {}
    for pack_id, matter_id, status, count in counts:
        row = rows.setdefault((pack_id, matter_id), InFlight(pack_id, matter_id, 0, 0))
        if status == "active":
            row.submitted += count
        else:
            row.drafts += count
    result.in_flight = [rows[key] for key in sorted(rows)]
    return result


# ---------------------------------------------------------------------------------------------------- publish


@dataclass
class Published:
    plan: Plan
    record_id: int
    #: the packs as now on disk (a running process swaps them in: `reload_services`)
    packset: PackSet


def publish(sessions: sessionmaker[Session], config_root: Path, bundle: Bundle, *, by: str) -> Published:
    """Import `bundle`: files into `config_root`, new versions stored, the import recorded — or nothing."""
    from formflow.packs.seeding import sync_offices

    session = sessions()
    writer: _Writer | None = None
    try:
        with session.begin():  # commits on leaving the block; the files are written just before
            checked = plan(session, config_root, bundle)
            if not checked.ok or checked.packset is None:
                raise checked.refusal()
            packset = checked.packset
            for pack_id in bundle.packs:
                pack = packset.packs[pack_id]
                sync_offices(session, pack)
                for matter_id in pack.matters:
                    pin(session, packset, pack_id, matter_id)
            record = ConfigImport(at=utcnow(), by=by[:200], sha256=bundle.sha256, packs=bundle.packs,
                                  summary=checked.summary())
            session.add(record)
            session.flush()
            record_id = record.id
            changed = {rel: bundle.files[rel] for rel in [*checked.files_added, *checked.files_changed]}
            writer = _Writer(config_root, changed, checked.files_removed)
            writer.apply()
    except BaseException:
        if writer is not None:  # the commit failed after the files were written: put them back
            writer.restore()
        raise
    finally:
        session.close()
    return Published(checked, record_id, load_packs(config_root))


def reload_services(services: Any, packset: PackSet) -> None:
    """Serve the imported packs in this process from now on (new applications pin their versions)."""
    from flask import current_app, has_app_context

    from formflow.notifications.registry import install as install_messages

    services.packs = packset
    for part in ("calendars", "elicence", "identity"):  # built from the packs: built again when next asked
        services._cache.pop(part, None)
    install_messages(packset)
    if has_app_context():
        current_app.extensions["formflow"]["packs"] = packset


def imports(session: Session, packs: list[str] | None = None, *, limit: int = 50) -> list[ConfigImport]:
    """The recorded imports, newest first (only those touching `packs` when given)."""
    rows = list(session.scalars(select(ConfigImport).order_by(ConfigImport.id.desc()).limit(limit * 4)))
    if packs is not None:
        rows = [row for row in rows if set(row.packs or []) & set(packs)]
    return rows[:limit]


def operator() -> str:
    """Who runs the command line: `cli:<OS user>` (as role grants record it)."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (containers)
        return "cli"
