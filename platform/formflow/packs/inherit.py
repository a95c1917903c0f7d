"""Pack inheritance: a child pack (`extends: <parent>` in pack.yaml) merged over its parent.

A city pack inherits everything its province's pack has and overrides or adds
pieces by id. The rules, per file kind (docs/formats.md, "Inheritance"):

- pack.yaml: top-level keys of the child replace the parent's (`name`,
  `region_code`, `privacy` as a whole, ...); `channels` and `matters` merge by
  `id` (a matter entry merges key by key, its `documents` by `id`).
- form.schema.json and tables/<id>.yaml: whole-file replacement (a child file
  replaces the parent's; a new table id is added).
- materials.yaml, rules.yaml, workflow, messages.yaml, allocation.yaml: deep
  merge. Objects merge key by key (a stage, an action, a notice, a material kind,
  a message kind are objects keyed by their id); a list whose items all are
  objects with an `id` merges by `id`; a category's `required` / `optional`
  lists merge by material kind; every other list or value is replaced.
- parameters.yaml: `parameters` by id, each parameter replaced as a whole.
- offices.yaml: never in a child. The offices are the parent's one tree; the
  child's `region_code` must be a region of it. demo.yaml is the child's own;
  elicences.yaml and calendar.yaml are the child's if it has them, else the parent's.

Child files are overlays: each is checked against its meta-schema after the
merge (the effective content), problems naming the child's file.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from formflow.text.catalogue import _, lazy

if TYPE_CHECKING:
    from formflow.packs.loader import Doc, Matter, Pack, _Loader

INHERITED, OVERRIDDEN, ADDED = "inherited", "overridden", "added"
#: per matter file kind: (file name under schemas/<pack>/<matter>/, meta kind, merge rule)
MATTER_FILES = {
    "materials": ("materials.yaml", "materials", "deep"),
    "rules": ("rules.yaml", "rules", "deep"),
    "allocation": ("allocation.yaml", "allocation", "deep"),
    "messages": ("messages.yaml", "messages", "deep"),
}
#: nested maps of objects keyed by id, listed per id in `formflow check --explain`
EXPLAINED = {
    "materials": ("kinds", "categories"),
    "rules": ("computed", "eligibility"),
    "workflow": ("stages", "notices", "roles"),
    "messages": ("kinds",),
    "allocation": ("modes",),
}
#: lists merged by material kind (a string item, or an object's `kind`)
BY_KIND = ("required", "optional")


@dataclass
class Entry:
    """One piece of the effective pack and where it comes from."""

    matter: str  # "" for pack-wide files
    kind: str  # file kind: manifest, parameters, form, materials, rules, workflow, table, messages, ...
    id: str  # the piece (a parameter, a stage, a material kind...) or "" for the whole file
    status: str  # inherited | overridden | added


@dataclass
class Inheritance:
    """What a child pack takes from its parent."""

    parent: str
    lineage: list[str]  # the parent, its parent, ...
    entries: list[Entry] = field(default_factory=list)

    def of(self, status: str) -> list[Entry]:
        return [e for e in self.entries if e.status == status]


# --------------------------------------------------------------------------- merging


def _identity(item: Any, by_kind: bool) -> str | None:
    if by_kind:
        if isinstance(item, str):
            return item
        if isinstance(item, dict) and isinstance(item.get("kind"), str):
            return item["kind"]
        return None
    if isinstance(item, dict) and isinstance(item.get("id"), str | int):
        return str(item["id"])
    return None


def _merge_list(parent: list[Any], child: list[Any], by_kind: bool) -> list[Any]:
    keys_p = [_identity(i, by_kind) for i in parent]
    keys_c = [_identity(i, by_kind) for i in child]
    if not child or None in keys_p or None in keys_c:
        return copy.deepcopy(child)
    out = copy.deepcopy(parent)
    for key, item in zip(keys_c, child, strict=True):
        if key in keys_p:
            at = keys_p.index(key)
            out[at] = merge(out[at], item) if isinstance(item, dict) and isinstance(out[at], dict) else item
        else:
            out.append(copy.deepcopy(item))
            keys_p.append(key)
    return out


def merge(parent: Any, child: Any, key: str = "") -> Any:
    """The child's value over the parent's (the deep-merge rule of the module docstring)."""
    if isinstance(parent, dict) and isinstance(child, dict):
        out = copy.deepcopy(parent)
        for k, value in child.items():
            out[k] = merge(parent[k], value, k) if k in parent else copy.deepcopy(value)
        return out
    if isinstance(parent, list) and isinstance(child, list):
        return _merge_list(parent, child, key in BY_KIND)
    return copy.deepcopy(child)


def merge_parameters(parent: Any, child: Any) -> Any:
    """parameters.yaml: top-level keys replaced, each parameter replaced whole by id."""
    parent = parent if isinstance(parent, dict) else {}
    child = child if isinstance(child, dict) else {}
    out = copy.deepcopy(parent) | {k: copy.deepcopy(v) for k, v in child.items() if k != "parameters"}
    params = dict(copy.deepcopy(parent.get("parameters") or {}))
    params.update(copy.deepcopy(child.get("parameters") or {}))
    out["parameters"] = params
    return out


def merge_manifest(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    out = merge(parent, child)
    out["id"] = child.get("id")
    out["extends"] = child.get("extends")
    return out


# --------------------------------------------------------------------------- loading a child


def _ids(content: Any, key: str) -> dict[str, Any]:
    found = content.get(key) if isinstance(content, dict) else None
    return found if isinstance(found, dict) else {}


def _explain(info: Inheritance, matter: str, kind: str, parent: Any, child: Any) -> None:
    """Per id of the explained maps of `kind`: inherited, overridden or added."""
    if child is None:
        info.entries.append(Entry(matter, kind, "", INHERITED if parent is not None else ADDED))
        return
    if parent is None or kind == "form":
        info.entries.append(Entry(matter, kind, "", ADDED if parent is None else OVERRIDDEN))
        return
    keys = EXPLAINED.get(kind, ())
    for key in keys:
        mine, theirs = _ids(child, key), _ids(parent, key)
        for pid in theirs:
            info.entries.append(Entry(matter, kind, f"{key}.{pid}", OVERRIDDEN if pid in mine else INHERITED))
        for cid in mine:
            if cid not in theirs:
                info.entries.append(Entry(matter, kind, f"{key}.{cid}", ADDED))
    rest = [k for k in child if k not in keys] if isinstance(child, dict) else []
    for k in rest:
        info.entries.append(Entry(matter, kind, k, OVERRIDDEN if isinstance(parent, dict) and k in parent
                                  else ADDED))


def _overlay(loader: _Loader, path: Any, kind: str, parent: Doc | None, rule: str) -> tuple[Doc | None, Any]:
    """The effective document of one file kind (validated after merging) and the child's raw overlay."""
    from formflow.packs.loader import Doc

    raw = loader.reader.read(path, required=False) if path.is_file() else None
    if raw is None:
        return parent, None
    if parent is None or rule == "replace":
        content = raw
    elif rule == "parameters":
        content = merge_parameters(parent.content, raw)
    else:
        content = merge(parent.content, raw)
    loader.validate(path, content, kind)
    return Doc(path, loader.reader.rel(path), content), raw


def load_child(loader: _Loader, pack_id: str, manifest: Doc, parent: Pack) -> Pack:
    """The effective pack `pack_id`: its own files merged over `parent` (already effective)."""
    from formflow.packs.loader import Doc, Pack

    lineage = [parent.id, *(parent.inheritance.lineage if parent.inheritance else [])]
    info = Inheritance(parent.id, lineage)
    raw_manifest = manifest.content
    content = merge_manifest(parent.manifest.content, raw_manifest)
    content["lineage"] = lineage
    loader.validate(manifest.path, {k: v for k, v in content.items() if k != "lineage"}, "pack")
    pack = Pack(pack_id, Doc(manifest.path, manifest.rel, content))
    pack.inheritance = info
    for key in raw_manifest:
        if key not in ("id", "extends", "matters"):
            info.entries.append(Entry("", "manifest", key, OVERRIDDEN if key in parent.manifest.content else ADDED))
    seeds = loader.root / "seeds" / pack_id
    if (seeds / "offices.yaml").is_file():
        loader.reader.problem(seeds / "offices.yaml", "", _(
            "A pack that extends %(parent)s shares its offices: remove offices.yaml (the offices are in %(file)s)",
            parent=repr(parent.id), file=parent.offices.rel if parent.offices else "offices.yaml"))
    pack.offices = parent.offices
    pack.parameters, raw = _overlay(loader, seeds / "parameters.yaml", "parameters", parent.parameters, "parameters")
    _explain_parameters(info, parent.parameters, raw)
    pack.calendar, _raw = _overlay(loader, seeds / "calendar.yaml", "calendar-overrides", parent.calendar,
                                   "replace")
    pack.elicences, _raw = _overlay(loader, seeds / "elicences.yaml", "elicences", parent.elicences, "replace")
    pack.demo = loader.doc(seeds / "demo.yaml", "demo", required=False)
    own = {e.get("id"): e for e in raw_manifest.get("matters") or [] if isinstance(e, dict)}
    for entry in content.get("matters") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        base = parent.matters.get(entry["id"])
        if base is None:
            pack.matters[entry["id"]] = loader.load_matter(pack_id, entry)
            info.entries.append(Entry(entry["id"], "matter", "", ADDED))
            continue
        for key, value in (own.get(entry["id"]) or {}).items():
            if key == "id":
                continue
            theirs = base.entry.get(key)
            if key == "documents" and isinstance(value, list) and isinstance(theirs, list):
                known = {d.get("id") for d in theirs if isinstance(d, dict)}
                for doc in value:
                    if isinstance(doc, dict):
                        info.entries.append(Entry(entry["id"], "matter", f"documents.{doc.get('id')}",
                                                  OVERRIDDEN if doc.get("id") in known else ADDED))
                continue
            info.entries.append(Entry(entry["id"], "matter", key, OVERRIDDEN if theirs is not None else ADDED))
        pack.matters[entry["id"]] = _child_matter(loader, info, pack_id, entry, base)
    _check_region(loader, pack, parent, manifest)
    return pack


def _explain_parameters(info: Inheritance, parent: Doc | None, raw: Any) -> None:
    theirs = _ids(parent.content if parent else {}, "parameters")
    mine = _ids(raw, "parameters")
    for pid in theirs:
        info.entries.append(Entry("", "parameters", pid, OVERRIDDEN if pid in mine else INHERITED))
    for pid in mine:
        if pid not in theirs:
            info.entries.append(Entry("", "parameters", pid, ADDED))


def _child_matter(loader: _Loader, info: Inheritance, pack_id: str, entry: dict[str, Any], base: Matter) -> Matter:
    from formflow.packs.loader import Matter

    folder = loader.root / "schemas" / pack_id / entry["id"]
    matter = Matter(pack=pack_id, id=entry["id"], entry=entry, form=base.form, workflow=base.workflow)
    form, raw = _overlay(loader, folder / "form.schema.json", "form", base.form, "replace")
    matter.form = form
    _explain(info, matter.id, "form", base.form, raw)
    workflow_path = loader.root / "workflows" / pack_id / f"{entry['id']}.yaml"
    matter.workflow, raw = _overlay(loader, workflow_path, "workflow", base.workflow, "deep")
    _explain(info, matter.id, "workflow", base.workflow.content if base.workflow else None, raw)
    for attr, (name, kind, rule) in MATTER_FILES.items():
        theirs: Doc | None = getattr(base, attr)
        doc, raw = _overlay(loader, folder / name, kind, theirs, rule)
        setattr(matter, attr, doc)
        if theirs is not None or raw is not None:
            _explain(info, matter.id, attr, theirs.content if theirs else None, raw)
    matter.tables = dict(base.tables)
    for tid in base.tables:
        if not (folder / "tables" / f"{tid}.yaml").is_file():
            info.entries.append(Entry(matter.id, "table", tid, INHERITED))
    for path in sorted((folder / "tables").glob("*.yaml")):
        table = loader.doc(path, "table")
        if table is not None:
            info.entries.append(Entry(matter.id, "table", path.stem,
                                      OVERRIDDEN if path.stem in base.tables else ADDED))
            matter.tables[path.stem] = table
    return matter


def _regions(nodes: Any) -> set[str]:
    found: set[str] = set()
    for node in nodes or []:
        if isinstance(node, dict):
            if node.get("region_code"):
                found.add(str(node["region_code"]))
            found |= _regions(node.get("children"))
    return found


def _check_region(loader: _Loader, pack: Pack, parent: Pack, manifest: Doc) -> None:
    code = str(pack.manifest.content.get("region_code") or "")
    offices = parent.offices.content if parent.offices and isinstance(parent.offices.content, dict) else {}
    if code and code not in _regions(offices.get("offices")):
        loader.reader.problem(manifest.path, "/region_code", _(
            "region_code %(code)s is not a region of %(parent)s's offices: a child pack covers one region of "
            "its parent's office tree", code=repr(code), parent=parent.id))
    elif code == str(parent.manifest.content.get("region_code") or ""):
        loader.reader.problem(manifest.path, "/region_code", _(
            "region_code %(code)s is the region of %(parent)s itself: a child pack covers a region under it",
            code=repr(code), parent=parent.id))


def resolve(loader: _Loader, raw: dict[str, tuple[Doc, str]], packs: dict[str, Pack]) -> None:
    """Load every child pack (`raw`: id -> (its pack.yaml, parent id)) over its effective parent, in order."""
    waiting = dict(raw)
    while waiting:
        ready = [cid for cid, (_doc, parent) in waiting.items() if parent in packs]
        if not ready and not _fetch_parents(loader, waiting, packs):
            for _cid, (doc, parent) in sorted(waiting.items()):
                message = (_("extends %(parent)s: no such locality pack", parent=repr(parent))
                           if parent not in raw else _("extends %(parent)s: the packs extend each other in a cycle",
                                                       parent=repr(parent)))
                loader.reader.problem(doc.path, "/extends", message)
            return
        for cid in sorted(ready):
            doc, parent = waiting.pop(cid)
            packs[cid] = load_child(loader, cid, doc, packs[parent])



def _fetch_parents(loader: _Loader, waiting: dict[str, tuple[Doc, str]], packs: dict[str, Pack]) -> bool:
    """Load parents left out by `only` (`formflow check <child>` checks the child over its parent)."""
    fetched = False
    for _cid, (_doc, parent) in list(waiting.items()):
        if parent in packs or parent in waiting or not (loader.root / "schemas" / parent / "pack.yaml").is_file():
            continue
        found = loader.load_pack(parent)
        if found is not None:
            packs[parent] = found
            fetched = True
        elif parent in loader.children:
            waiting[parent] = loader.children[parent]
            fetched = True
    return fetched


def drop_inherited(packs: dict[str, Pack], problems: list[Any]) -> list[Any]:
    """Problems without those a child only inherits: the same pointer and message in the parent's file."""
    seen = {(p.file, p.pointer, p.message) for p in problems}
    out = []
    for problem in problems:
        folder, _sep, rest = problem.file.partition("/")
        pack_id, _sep, tail = rest.partition("/")
        pack = packs.get(pack_id)
        if pack is not None and pack.inheritance is not None and tail and \
                (f"{folder}/{pack.inheritance.parent}/{tail}", problem.pointer, problem.message) in seen:
            continue
        out.append(problem)
    return out


# --------------------------------------------------------------------------- using the lineage


def lineage(manifest: dict[str, Any] | None) -> list[str]:
    """The ancestors of a pack as its (effective or pinned) manifest names them, nearest first."""
    found = (manifest or {}).get("lineage") or []
    return [str(p) for p in found]


def children_of(packset: Any, pack_id: str) -> list[Any]:
    """Packs extending `pack_id` (at any depth), deepest first."""
    out = [p for p in packset.packs.values() if pack_id in lineage(p.manifest.content)]
    return sorted(out, key=lambda p: -len(lineage(p.manifest.content)))


# --------------------------------------------------------------------------- explaining

KIND_TITLES = {
    "manifest": lazy("manifest pack.yaml"),
    "parameters": lazy("parameters parameters.yaml"),
    "matter": lazy("matter"),
    "form": lazy("form form.schema.json"),
    "materials": lazy("materials materials.yaml"),
    "rules": lazy("rules rules.yaml"),
    "workflow": lazy("workflow (stages, notices)"),
    "table": lazy("review tables tables/"),
    "messages": lazy("messages messages.yaml"),
    "allocation": lazy("allocation allocation.yaml"),
}
STATUS_TITLES = {OVERRIDDEN: lazy("Overridden"), ADDED: lazy("Added"), INHERITED: lazy("Inherited")}


def explain(pack: Pack) -> list[str]:
    """What `pack` inherits, overrides and adds, per file kind and per id (for `formflow check --explain`)."""
    info = pack.inheritance
    if info is None:
        return [_("%(pack)s (%(name)s) extends no other pack: everything is its own", pack=pack.id, name=pack.name)]
    lines = [_("%(pack)s (%(name)s) extends %(parents)s; offices: the parent's tree, region %(region)s",
               pack=pack.id, name=pack.name, parents=" > ".join(info.lineage),
               region=pack.manifest.content.get("region_code"))]
    for status in (OVERRIDDEN, ADDED, INHERITED):
        entries = info.of(status)
        lines.append(_("%(status)s (%(n)s):", status=STATUS_TITLES[status], n=len(entries)))
        groups: dict[tuple[str, str], list[str]] = {}
        for entry in entries:
            groups.setdefault((entry.matter, entry.kind), []).append(entry.id or _("(the whole file)"))
        for (matter, kind), ids in groups.items():
            where = f"{matter} / {KIND_TITLES.get(kind, kind)}" if matter else str(KIND_TITLES.get(kind, kind))
            lines.append(f"  {where}: {', '.join(ids)}")
    return lines


__all__ = ["ADDED", "INHERITED", "OVERRIDDEN", "Entry", "Inheritance", "children_of", "drop_inherited", "explain",
           "lineage", "load_child", "merge", "merge_parameters", "resolve"]
