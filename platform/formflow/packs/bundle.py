"""Configuration bundles: one zip file carrying a pack (and the pack it extends) between environments.

A bundle is a zip with `manifest.json` at its top — the pack ids, every file's path relative to the
configuration root with its SHA-256 and size, the formflow version and when it was made — and the
pack's files under the same paths: `schemas/<pack>/…`, `workflows/<pack>/…`, `seeds/<pack>/…` (demo
accounts and demo e-licences only when asked for) and `renderers/<pack>/…` when the pack overrides
templates. A pack whose pack.yaml says `extends: <other>` brings the other pack along.

`write_bundle` makes one; `read_bundle` opens one and refuses (`BundleError`, naming the file) anything
that is not a zip, lacks its manifest, lists a file it does not hold, holds a file it does not list or
whose content does not match its hash, or puts a file outside its packs' folders.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from formflow.packs.problems import load_yaml
from formflow.text.catalogue import _
from formflow.text.errors import Refusal

FORMAT = "formflow-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: The folders of the configuration root a pack's files live in (`<folder>/<pack>/…`).
PACK_FOLDERS = ("schemas", "workflows", "seeds", "renderers")
#: Demo data: in a bundle only with `with_demo`.
DEMO_FILES = ("demo.yaml", "elicences.yaml")
#: Bounds on what a bundle may unpack to (a zip bomb is refused, not expanded).
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024
MAX_FILES = 2000
PACK_ID = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


class BundleError(Refusal):
    """A bundle that cannot be imported: the message names the bundle file and the file inside it."""

    code = "bundle_invalid"
    status = 400


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def formflow_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("formflow")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without installing
        return "0"


@dataclass
class Bundle:
    """An opened, verified bundle: its manifest, its files (path → bytes) and the SHA-256 of the zip."""

    name: str
    sha256: str
    manifest: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def packs(self) -> list[str]:
        return [str(p) for p in self.manifest.get("packs") or []]

    @property
    def with_demo(self) -> bool:
        return bool(self.manifest.get("with_demo"))


def extended_pack(root: Path, pack_id: str) -> str | None:
    """The pack `pack_id`'s pack.yaml says it extends (`extends: <pack>`), if any."""
    path = root / "schemas" / pack_id / "pack.yaml"
    try:
        content = load_yaml(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - an unreadable manifest extends nothing; `formflow check` says why
        return None
    parent = content.get("extends") if isinstance(content, dict) else None
    return parent if isinstance(parent, str) and parent else None


def packs_to_export(root: Path, pack_id: str) -> list[str]:
    """`pack_id` and, following `extends`, every pack it builds on (the pack first)."""
    found: list[str] = []
    current: str | None = pack_id
    while current and current not in found:
        if not (root / "schemas" / current / "pack.yaml").is_file():
            raise BundleError(_("No locality pack %(name)s found", name=repr(current)), file=f"schemas/{current}")
        found.append(current)
        current = extended_pack(root, current)
    return found


def _skipped(path: PurePosixPath) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in path.parts)


def pack_files(root: Path, pack_id: str, *, with_demo: bool = False) -> list[str]:
    """The paths (relative to `root`, POSIX) of the files that make pack `pack_id`, sorted."""
    paths: list[str] = []
    for folder in PACK_FOLDERS:
        base = root / folder / pack_id
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            rel = PurePosixPath(path.relative_to(root).as_posix())
            if not path.is_file() or _skipped(rel):
                continue
            if folder == "seeds" and len(rel.parts) == 3 and rel.name in DEMO_FILES and not with_demo:
                continue
            paths.append(str(rel))
    return paths


def bundle_bytes(root: Path, pack_id: str, *, with_demo: bool = False, now: datetime | None = None) -> bytes:
    """The bundle of `pack_id` (and what it extends) as zip bytes."""
    packs = packs_to_export(root, pack_id)
    entries = []
    contents: dict[str, bytes] = {}
    for pack in packs:
        for rel in pack_files(root, pack, with_demo=with_demo):
            data = (root / rel).read_bytes()
            contents[rel] = data
            entries.append({"path": rel, "sha256": sha256(data), "size": len(data), "pack": pack})
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "packs": packs,
        "with_demo": with_demo,
        "formflow_version": formflow_version(),
        "created_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "files": entries,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
        for rel, data in contents.items():
            archive.writestr(rel, data)
    return buffer.getvalue()


def write_bundle(root: Path, pack_id: str, out: Path, *, with_demo: bool = False) -> Bundle:
    """Write the bundle of `pack_id` to `out` (through a temporary file: never half-written)."""
    data = bundle_bytes(root, pack_id, with_demo=with_demo)
    out = Path(out)
    temp = out.with_name(f".{out.name}.part")
    temp.write_bytes(data)
    temp.replace(out)
    return read_bundle(data, name=str(out))


def _allowed(rel: str, packs: list[str]) -> bool:
    path = PurePosixPath(rel)
    if path.is_absolute() or ".." in path.parts or "\\" in rel or len(path.parts) < 3 or _skipped(path):
        return False
    return path.parts[0] in PACK_FOLDERS and path.parts[1] in packs


def read_bundle(source: bytes | Path, *, name: str | None = None) -> Bundle:
    """Open and verify a bundle (bytes or a path); `BundleError` naming the file otherwise."""
    if isinstance(source, Path):
        name = name or str(source)
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise BundleError(_("%(file)s cannot be read: %(error)s", file=name, error=exc.strerror or exc),
                              file=name) from exc
    else:
        data = source
    name = name or "bundle"

    def refuse(message: str, **details: Any) -> BundleError:
        return BundleError(message, file=name, **details)

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise refuse(_("%(file)s is not a configuration bundle (a zip file with manifest.json)", file=name)) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_FILES + 1 or sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
            raise refuse(_("%(file)s is too large to be a configuration bundle", file=name))
        names = {info.filename: info for info in infos if not info.is_dir()}
        if MANIFEST not in names:
            raise refuse(_("%(file)s has no manifest.json: it is not a configuration bundle", file=name))
        try:
            manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
            raise refuse(_("%(file)s: manifest.json cannot be read (%(error)s)", file=name, error=exc)) from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT \
                or not isinstance(manifest.get("files"), list) or not isinstance(manifest.get("packs"), list):
            raise refuse(_("%(file)s: manifest.json is not the manifest of a configuration bundle", file=name))
        if manifest.get("format_version") != FORMAT_VERSION:
            raise refuse(_("%(file)s: bundle format version %(version)s is not supported (this formflow reads "
                           "%(supported)s)", file=name, version=manifest.get("format_version"),
                           supported=FORMAT_VERSION))
        packs = [p for p in manifest["packs"] if isinstance(p, str) and PACK_ID.match(p)]
        if not packs or len(packs) != len(manifest["packs"]):
            raise refuse(_("%(file)s: manifest.json names no valid pack id", file=name))
        files: dict[str, bytes] = {}
        for entry in manifest["files"]:
            rel = entry.get("path") if isinstance(entry, dict) else None
            if not isinstance(rel, str) or not _allowed(rel, packs):
                raise refuse(_("%(file)s: %(path)s is not a file of the bundle's packs (%(packs)s)", file=name,
                               path=rel, packs=", ".join(packs)), path=rel)
            info = names.get(rel)
            if info is None:
                raise refuse(_("%(file)s: %(path)s is listed in manifest.json but missing from the bundle",
                               file=name, path=rel), path=rel)
            if info.file_size > MAX_FILE_BYTES:
                raise refuse(_("%(file)s: %(path)s is too large", file=name, path=rel), path=rel)
            try:
                content = archive.read(rel)
            except (zipfile.BadZipFile, OSError) as exc:  # a corrupted member (its CRC fails)
                raise refuse(_("%(file)s: %(path)s cannot be read from the bundle (%(error)s)", file=name,
                               path=rel, error=exc), path=rel) from exc
            if sha256(content) != entry.get("sha256"):
                raise refuse(_("%(file)s: the content of %(path)s does not match its SHA-256 in manifest.json "
                               "(changed after the export)", file=name, path=rel), path=rel)
            files[rel] = content
        extra = sorted(set(names) - set(files) - {MANIFEST})
        if extra:
            raise refuse(_("%(file)s: %(path)s is not listed in manifest.json", file=name, path=extra[0]),
                         path=extra[0])
    return Bundle(name=name, sha256=sha256(data), manifest=manifest, files=files)
