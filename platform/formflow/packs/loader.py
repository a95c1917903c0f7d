"""Find and load locality packs; validate every file against its meta-schema.

The layout is fixed by convention (docs/formats.md): a pack `<id>` is
`schemas/<id>/pack.yaml` plus its matters' files under `schemas/<id>/<matter>/`,
`workflows/<id>/<matter>.yaml` and `seeds/<id>/`. Loading never stops at the
first problem: every problem is collected with file and JSON pointer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema_specifications import REGISTRY as SPEC_REGISTRY
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from formflow.forms.errors import translate
from formflow.forms.fast import FastCheck, errors_unless_valid, fast_check, rs_registry
from formflow.forms.schema import common_uri, form_uri, iter_errors, meta_uri
from formflow.packs.problems import WARNING, Problem, Reader, ordered
from formflow.packs.regions import expand_rules
from formflow.text.catalogue import _
from formflow.workflow.spec import resolve_param_days

RESERVED_DIRS = {"meta", "common"}
#: Validators kept per process, one per meta kind and content (a changed meta-schema compiles anew).
META_VALIDATORS_KEPT = 64
META_KINDS = (
    "pack", "form", "materials", "rules", "table", "workflow", "parameters",
    "offices", "calendar", "calendar-overrides", "demo", "elicences", "allocation",
    "messages",
)  # fmt: skip


@dataclass
class Doc:
    """One loaded file: where it is and what it holds."""

    path: Path
    rel: str
    content: Any


@dataclass
class Matter:
    pack: str
    id: str
    entry: dict[str, Any]
    form: Doc | None
    workflow: Doc | None
    materials: Doc | None = None
    rules: Doc | None = None
    tables: dict[str, Doc] = field(default_factory=dict)
    #: what happens after approval (waiting list, lottery, subsidy roster, follow-up)
    allocation: Doc | None = None
    #: message kinds: when the applicant is told what, and whether also by SMS (formflow.notifications)
    messages: Doc | None = None

    @property
    def title(self) -> str:
        return str(self.entry.get("title", self.id))

    @property
    def kind(self) -> str:
        return str(self.entry.get("kind", "application"))

    @property
    def citizen_starts(self) -> bool:
        """Offered on the portal (follow-up checks are started by the office or from a household's page)."""
        return self.kind != "follow-up"

    @property
    def form_uri(self) -> str:
        return form_uri(self.pack, self.id)


@dataclass
class Pack:
    id: str
    manifest: Doc
    matters: dict[str, Matter] = field(default_factory=dict)
    parameters: Doc | None = None
    offices: Doc | None = None
    calendar: Doc | None = None
    demo: Doc | None = None
    elicences: Doc | None = None
    #: set on a pack whose pack.yaml `extends` another (formflow.packs.inherit): what it inherits
    inheritance: Any = None

    @property
    def name(self) -> str:
        return str(self.manifest.content.get("name", self.id))


@dataclass
class PackSet:
    """Every pack under one configuration root, with what is wrong with them."""

    root: Path
    packs: dict[str, Pack]
    common: dict[str, Any]
    calendars: list[Doc]
    #: errors (parse errors first): the packs cannot be used until they are corrected
    problems: list[Problem]
    #: what is probably wrong but does not stop the packs (printed after the errors)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@lru_cache(maxsize=1)
def _specifications() -> Registry:
    """The JSON Schema dialects' own meta-schemas, crawled once per process (anchors found once)."""
    return SPEC_REGISTRY.crawl()


def _digest(content: Any) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


_MetaValidators = dict[str, tuple[Draft202012Validator, FastCheck | None]]
_META: dict[str, tuple[Registry, _MetaValidators, Any]] = {}


def _meta_registry(meta: dict[str, Any]) -> tuple[Registry, _MetaValidators, Any]:
    """The registry of every meta-schema (crawled once) and its validators, per set of meta-schema contents."""
    key = _digest(meta)
    found = _META.get(key)
    if found is None:
        if len(_META) >= META_VALIDATORS_KEPT:
            _META.pop(next(iter(_META)))
        resources = [
            (meta_uri(k), Resource.from_contents(d, default_specification=DRAFT202012)) for k, d in meta.items()
        ]
        rs = rs_registry({meta_uri(k): d for k, d in meta.items()})
        found = _META[key] = (_specifications().with_resources(resources).crawl(), {}, rs)
    return found


@lru_cache(maxsize=1)
def _json_schema_checker() -> tuple[Draft202012Validator, FastCheck | None]:
    """Checks a common definitions file is a JSON Schema (compiled once): rs decides, Python words."""
    registry = _specifications()
    uri = str(Draft202012Validator.META_SCHEMA["$id"])
    python = Draft202012Validator(Draft202012Validator.META_SCHEMA, registry=registry,
                                  _resolver=registry.resolver(base_uri=uri))
    return python, fast_check({"$ref": uri}, {}, None)


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.reader = Reader(root)
        self.meta: dict[str, Any] = {}
        self.common: dict[str, Any] = {}
        #: packs whose pack.yaml `extends` another: id -> (manifest, parent id), merged by packs.inherit
        self.children: dict[str, tuple[Doc, str]] = {}

    # -- meta-schemas -------------------------------------------------------
    def load_meta(self) -> None:
        for kind in META_KINDS:
            path = self.root / "schemas" / "meta" / f"{kind}.schema.json"
            doc = self.reader.read(path)
            if isinstance(doc, dict):
                self.meta[kind] = doc
        self.meta_registry, self.validators, self.rs_registry = _meta_registry(self.meta)

    def load_common(self) -> None:
        folder = self.root / "schemas" / "common"
        python, fast = _json_schema_checker()

        def problems(doc: Any) -> list[Any]:
            return list(python.iter_errors(doc))

        for path in sorted(folder.glob("*.json")):
            doc = self.reader.read(path)
            if doc is None:
                continue
            for err in errors_unless_valid(fast, doc, problems):
                fe = translate(err)
                self.reader.problem(path, fe.pointer, _("Not a valid JSON Schema: %(message)s", message=fe.message))
            self.common[common_uri(path.name)] = doc

    def validate(self, path: Path, content: Any, kind: str) -> None:
        """Report every way `content` breaks the meta-schema of `kind`."""
        schema = self.meta.get(kind)
        if schema is None:
            return
        found = self.validators.get(kind)
        if found is None:
            # An explicit resolver over the crawled registry: jsonschema's default one combines it with the
            # uncrawled dialect registry, and every `$dynamicRef` then re-crawls the dialect's meta-schemas.
            resolver = self.meta_registry.resolver(base_uri=meta_uri(kind))
            checker = FormatChecker()
            python = Draft202012Validator(schema, registry=self.meta_registry, format_checker=checker,
                                          _resolver=resolver)
            fast = fast_check(schema, self.rs_registry, checker, base_uri=meta_uri(kind))
            found = self.validators[kind] = (python, fast)
        validator, fast = found
        for err in errors_unless_valid(fast, content, lambda c: iter_errors(validator, c)):
            fe = translate(err)
            self.reader.problem(path, fe.pointer, fe.message)

    def doc(self, path: Path, kind: str, *, required: bool = True) -> Doc | None:
        content = self.reader.read(path, required=required)
        if content is None:
            return None
        self.validate(path, content, kind)
        return Doc(path, self.reader.rel(path), content)

    # -- packs --------------------------------------------------------------
    def pack_ids(self) -> list[str]:
        folder = self.root / "schemas"
        if not folder.is_dir():
            self.reader.problem(folder, "", _("The configuration root has no schemas/ folder"))
            return []
        ids = []
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            if sub.name in RESERVED_DIRS:
                continue
            if not (sub / "pack.yaml").is_file():
                self.reader.problem(sub, "", _("pack.yaml is missing: every locality pack needs a manifest"))
                continue
            ids.append(sub.name)
        return ids

    def load_pack(self, pack_id: str) -> Pack | None:
        schemas = self.root / "schemas" / pack_id
        manifest = self.doc(schemas / "pack.yaml", "pack")
        if manifest is None or not isinstance(manifest.content, dict):
            return None
        if manifest.content.get("id") != pack_id:
            self.reader.problem(
                manifest.path, "/id",
                _("id %(id)s should be the folder name %(folder)s", id=repr(manifest.content.get("id")),
                  folder=repr(pack_id)),
            )  # fmt: skip
        if isinstance(manifest.content.get("extends"), str):
            self.children[pack_id] = (manifest, manifest.content["extends"])
            return None
        pack = Pack(pack_id, manifest)
        seeds = self.root / "seeds" / pack_id
        pack.parameters = self.doc(seeds / "parameters.yaml", "parameters")
        pack.offices = self.doc(seeds / "offices.yaml", "offices")
        if pack.offices is not None:  # offices generated from the file's rules (packs/regions.py)
            pack.offices.content = expand_rules(pack.offices.content)
        pack.calendar = self.doc(seeds / "calendar.yaml", "calendar-overrides", required=False)
        pack.demo = self.doc(seeds / "demo.yaml", "demo", required=False)
        pack.elicences = self.doc(seeds / "elicences.yaml", "elicences", required=False)
        for index, entry in enumerate(manifest.content.get("matters") or []):
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                continue
            if entry["id"] in pack.matters:
                self.reader.problem(manifest.path, f"/matters/{index}/id", _("Matter id %(id)s is a duplicate",
                                                                                  id=repr(entry["id"])))
                continue
            pack.matters[entry["id"]] = self.load_matter(pack_id, entry)
            self.resolve_days(pack, pack.matters[entry["id"]])
        return pack

    def load_matter(self, pack_id: str, entry: dict[str, Any]) -> Matter:
        folder = self.root / "schemas" / pack_id / entry["id"]
        matter = Matter(
            pack=pack_id,
            id=entry["id"],
            entry=entry,
            form=self.doc(folder / "form.schema.json", "form"),
            workflow=self.doc(self.root / "workflows" / pack_id / f"{entry['id']}.yaml", "workflow"),
            materials=self.doc(folder / "materials.yaml", "materials", required=False),
            rules=self.doc(folder / "rules.yaml", "rules", required=False),
            allocation=self.doc(folder / "allocation.yaml", "allocation", required=False),
            messages=self.doc(folder / "messages.yaml", "messages", required=False),
        )
        for path in sorted((folder / "tables").glob("*.yaml")):
            table = self.doc(path, "table")
            if table is not None:
                matter.tables[path.stem] = table
                if isinstance(table.content, dict) and table.content.get("id") != path.stem:
                    self.reader.problem(
                        path, "/id", _("id %(id)s should be the file name %(name)s",
                                       id=repr(table.content.get("id")), name=repr(path.stem))
                    )
        return matter

    def resolve_days(self, pack: Pack, matter: Matter) -> None:
        """Day counts written `{param: id}` in the workflow and messages become the parameter's number."""
        parameters = pack.parameters.content if pack.parameters and isinstance(pack.parameters.content, dict) else {}
        from formflow.packs.checks.suggest import did_you_mean

        known = list(parameters.get("parameters") or {})
        unparsed = self.reader.is_broken(self.root / "seeds" / pack.id / "parameters.yaml")
        for doc in (matter.workflow, matter.messages):
            if doc is None or not isinstance(doc.content, dict):
                continue
            for where, name, why in resolve_param_days(doc.content, parameters):
                if unparsed:
                    continue  # the parameters file's own problem is the cause: no cascade of unknown names
                if why == "unknown":
                    message = _("The duration names a parameter %(name)s that parameters.yaml does not have",
                                name=repr(name)) + did_you_mean(name, known)
                else:
                    message = _("Parameter %(name)s used as a number of days is not a whole number of days",
                                name=repr(name))
                self.reader.problem(doc.path, where, message)

    def load_calendars(self) -> list[Doc]:
        docs = []
        for path in sorted((self.root / "seeds" / "calendar").glob("*.yaml")):
            doc = self.doc(path, "calendar")
            if doc is not None:
                docs.append(doc)
                year = doc.content.get("year") if isinstance(doc.content, dict) else None
                if str(year) != path.stem:
                    self.reader.problem(path, "/year", _("year %(year)s should be the file name %(name)s",
                                                        year=repr(year), name=repr(path.stem)))
        return docs


def load_packs(root: Path, only: list[str] | None = None) -> PackSet:
    """Load the packs under `root` (all, or those named in `only`) and check them."""
    from formflow.packs.checks import cross_check
    from formflow.packs.checks.templates import forget_check_environments
    from formflow.packs.inherit import drop_inherited, resolve

    loader = _Loader(root)
    loader.load_meta()
    loader.load_common()
    calendars = loader.load_calendars()
    packs: dict[str, Pack] = {}
    for pack_id in loader.pack_ids():
        if only and pack_id not in only:
            continue
        pack = loader.load_pack(pack_id)
        if pack is not None:
            packs[pack_id] = pack
    resolve(loader, loader.children, packs)
    if only:
        for name in only:
            if name not in packs and not any(p.file.startswith(f"schemas/{name}") for p in loader.reader.problems):
                loader.reader.problem(f"schemas/{name}", "", _("No locality pack %(name)s found", name=repr(name)))
    packset = PackSet(root, packs, loader.common, calendars, loader.reader.problems)
    cross_check(packset, loader.reader)
    forget_check_environments()
    found = ordered(list(dict.fromkeys(drop_inherited(packs, loader.reader.problems))))
    packset.problems = [p for p in found if p.severity != WARNING]
    packset.warnings = [p for p in found if p.severity == WARNING]
    return packset
