"""Content-hash versions: an application pins what it was started under.

Each pack document an application depends on (form with the common
definitions it references, materials, rules, workflow, parameters, each
review table) is stored once in `pack_versions` under the SHA-256 of its
canonical JSON. Editing a pack creates new versions; pinned applications keep
validating, rendering and moving under theirs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from formflow.db.models import PackVersion, utcnow
from formflow.forms.rules import RuleSet
from formflow.forms.schema import BASE_URI, cached_validator, common_uri
from formflow.packs.loader import Matter, PackSet
from formflow.text.catalogue import _


def canonical(content: Any) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(content: Any) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def form_bundle(packset: PackSet, matter: Matter) -> dict[str, Any]:
    """The form with every common document it references (transitively)."""
    form = matter.form.content if matter.form else {}
    common: dict[str, Any] = {}
    todo = [form]
    while todo:
        for ref in _refs(todo.pop()):
            name = ref.split("#", 1)[0].rsplit("/", 1)[-1]
            uri = common_uri(name)
            if name and uri not in common and uri in packset.common:
                common[uri] = packset.common[uri]
                todo.append(common[uri])
    return {"uri": matter.form_uri, "form": form, "common": common}


def _documents(packset: PackSet, pack_id: str, matter_id: str) -> dict[str, Any]:
    pack = packset.packs[pack_id]
    matter = pack.matters[matter_id]

    def content(doc: Any) -> Any:
        return doc.content if doc is not None else None

    return {
        "form": form_bundle(packset, matter),
        "materials": content(matter.materials),
        "rules": content(matter.rules),
        "workflow": content(matter.workflow),
        "parameters": content(pack.parameters),
        "manifest": {k: v for k, v in pack.manifest.content.items() if k != "matters"} | {"matter": matter.entry},
        "tables": {tid: content(doc) for tid, doc in matter.tables.items()},
    }


def pin(session: Session, packset: PackSet, pack_id: str, matter_id: str) -> dict[str, Any]:
    """Store the current versions of a matter's documents; return their hashes."""
    versions: dict[str, Any] = {"tables": {}}
    for kind, content in _documents(packset, pack_id, matter_id).items():
        if kind == "tables":
            for tid, table in content.items():
                versions["tables"][tid] = _store(session, pack_id, matter_id, f"table:{tid}", table)
        elif content is not None:
            versions[kind] = _store(session, pack_id, matter_id, kind, content)
    return versions


def _store(session: Session, pack: str, matter: str, kind: str, content: Any) -> str:
    """Insert the version once; several processes pinning the same content at once is not an error."""
    digest = content_hash(content)
    if session.get(PackVersion, digest) is None:
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(PackVersion.__table__)
            .values(hash=digest, pack=pack, matter=matter, kind=kind.split(":")[0], name=kind, content=content,
                    loaded_at=utcnow())
            .on_conflict_do_nothing(index_elements=["hash"])
        )
    return digest


@dataclass
class Pinned:
    """A matter's documents exactly as an application pinned them."""

    versions: dict[str, Any]
    documents: dict[str, Any] = field(default_factory=dict)

    @property
    def form(self) -> dict[str, Any]:
        return self.documents["form"]["form"]

    @property
    def validator(self):
        bundle = self.documents["form"]
        docs = dict(bundle["common"]) | {bundle["uri"]: bundle["form"]}
        schema = {"$ref": bundle["uri"]}
        return cached_validator(self.versions["form"], schema, docs)

    @property
    def workflow(self) -> dict[str, Any]:
        return self.documents["workflow"]

    @property
    def materials(self) -> dict[str, Any]:
        return self.documents.get("materials") or {}

    @property
    def manifest(self) -> dict[str, Any]:
        return self.documents.get("manifest") or {}

    @property
    def ruleset(self) -> RuleSet:
        return RuleSet(self.documents.get("rules") or {}, self.documents.get("parameters") or {})

    def category_title(self, category: str | None) -> str:
        """The applicant category's title (from the materials list, else the eligibility rules)."""
        if not category:
            return ""
        found = (self.materials.get("categories") or {}).get(category) or {}
        if found.get("title"):
            return str(found["title"])
        eligibility = ((self.documents.get("rules") or {}).get("eligibility") or {}).get(category) or {}
        return str(eligibility.get("title") or category)

    def channel_title(self, channel: str | None) -> str:
        for entry in self.manifest.get("channels") or []:
            if entry.get("id") == channel:
                return str(entry.get("title") or channel)
        return channel or ""

    def table(self, table_id: str) -> dict[str, Any] | None:
        return self.documents.get("tables", {}).get(table_id)


_PINNED: dict[Any, Pinned] = {}


def _cache_key(versions: Any) -> Any:
    """`versions` as a hashable key: its kinds and digests (the digests name the content, so the key is
    sound in any database and after any pack change); the content hash when they are not plain digests."""
    if isinstance(versions, dict):
        key: list[tuple[str, Any]] = []
        for kind, digest in sorted(versions.items()):
            if isinstance(digest, str):
                key.append((kind, digest))
            elif isinstance(digest, dict) and all(isinstance(v, str) for v in digest.values()):
                key.append((kind, tuple(sorted(digest.items()))))
            else:
                break
        else:
            return tuple(key)
    return content_hash(versions)


def load_pinned(session: Session, versions: dict[str, Any]) -> Pinned:
    """The pinned documents for `versions` (cached: pinned content never changes)."""
    key = _cache_key(versions)
    found = _PINNED.get(key)
    if found is not None:
        return found
    documents: dict[str, Any] = {"tables": {}}
    for kind, digest in versions.items():
        if kind == "tables":
            for tid, h in digest.items():
                documents["tables"][tid] = _fetch(session, h)
        else:
            documents[kind] = _fetch(session, digest)
    pinned = _PINNED[key] = Pinned(versions, documents)
    return pinned


def _fetch(session: Session, digest: str) -> Any:
    row = session.get(PackVersion, digest)
    if row is None:
        raise LookupError(_("Version %(digest)s is not in pack_versions", digest=digest))
    return row.content


__all__ = ["BASE_URI", "Pinned", "content_hash", "load_pinned", "pin"]
