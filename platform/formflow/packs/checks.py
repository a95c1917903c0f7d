"""Cross-file checks: every name one pack file uses must exist in another.

Meta-schemas see one file at a time; here we see the pack whole: a stage
naming a table that does not exist, a category naming an unknown material, a
`$ref` that does not resolve, a rule naming an unknown field or parameter, a
stage with no way out, a stage no action reaches, an office or role a demo
account names that is not there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from referencing import Registry
from referencing.exceptions import Unresolvable

from formflow.auth.roles import BUILTIN_ROLES
from formflow.forms.errors import pointer
from formflow.forms.rules import ITERATING_OPS, META_VARIABLES
from formflow.forms.schema import registry_of
from formflow.packs.loader import Matter, Pack, PackSet
from formflow.packs.problems import Reader
from formflow.text.catalogue import _
from formflow.workflow.spec import END_KIND, TIMER_KIND, action_targets, stage_targets

REGION_KINDS = ("province", "city", "district", "street", "community")


def cross_check(packset: PackSet, reader: Reader) -> None:
    office_owner: dict[str, str] = {}
    for pack in packset.packs.values():
        offices = _check_offices(pack, reader, office_owner)
        roles_in_pack: set[str] = set()
        checks = []
        for matter in pack.matters.values():
            checks.append(check := _MatterCheck(packset, pack, matter, reader))
            check.run()
            wf = matter.workflow.content if matter.workflow else None
            if isinstance(wf, dict):
                roles_in_pack |= set(wf.get("roles") or {})
        _check_demo(pack, reader, offices, roles_in_pack | set(BUILTIN_ROLES))
        for check in checks:
            if check.matter.allocation is not None:
                _check_allocation(check, roles_in_pack | set(BUILTIN_ROLES))


def _walk_offices(nodes: Any, base: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for index, node in enumerate(nodes or []):
        if isinstance(node, dict):
            here = f"{base}/{index}"
            yield here, node
            yield from _walk_offices(node.get("children"), f"{here}/children")


def _check_offices(pack: Pack, reader: Reader, owner: dict[str, str]) -> set[str]:
    ids: set[str] = set()
    if pack.offices is None or not isinstance(pack.offices.content, dict):
        return ids
    for where, node in _walk_offices(pack.offices.content.get("offices"), "/offices"):
        oid = str(node.get("id"))
        if oid in ids or oid in owner:
            other = owner.get(oid, pack.id)
            reader.problem(pack.offices.path, f"{where}/id",
                           _("Office id %(id)s is a duplicate (already used in %(other)s)", id=repr(oid), other=other))
        ids.add(oid)
        owner.setdefault(oid, pack.id)
        if node.get("kind") in REGION_KINDS and not node.get("region_code"):
            reader.problem(pack.offices.path, where, _("Region %(name)s has no region_code",
                                                       name=repr(node.get("name"))))
    return ids


def _check_demo(pack: Pack, reader: Reader, offices: set[str], roles: set[str]) -> None:
    if pack.demo is None or not isinstance(pack.demo.content, dict):
        return
    for i, account in enumerate(pack.demo.content.get("accounts") or []):
        for j, grant in enumerate(account.get("roles") or []):
            where = f"/accounts/{i}/roles/{j}"
            if grant.get("role") not in roles:
                reader.problem(pack.demo.path, f"{where}/role", _("Role %(role)s is not defined in any workflow",
                                                                  role=repr(grant.get("role"))))
            office = grant.get("office")
            if office is not None and str(office) not in offices:
                reader.problem(pack.demo.path, f"{where}/office", _("Office %(office)s is not in offices.yaml",
                                                                    office=repr(office)))


class _MatterCheck:
    def __init__(self, packset: PackSet, pack: Pack, matter: Matter, reader: Reader) -> None:
        self.pack, self.matter, self.reader = pack, matter, reader
        self.form = matter.form.content if matter.form and isinstance(matter.form.content, dict) else None
        documents = dict(packset.common)
        if self.form is not None:
            documents[matter.form_uri] = self.form
        self.registry: Registry = registry_of(documents)
        self.params = set(self._content(pack.parameters).get("parameters") or {})
        self.rules = self._content(matter.rules)
        self.computed = set(self.rules.get("computed") or {})
        self.materials = self._content(matter.materials)
        self.kinds = set(self.materials.get("kinds") or {})
        self.workflow = self._content(matter.workflow)
        self.stages: dict[str, Any] = self.workflow.get("stages") or {}
        self.renderers = packset.root / "renderers"

    @staticmethod
    def _content(doc: Any) -> dict[str, Any]:
        return doc.content if doc is not None and isinstance(doc.content, dict) else {}

    def run(self) -> None:
        categories = self.check_form()
        self.check_materials(categories)
        self.check_rules(categories)
        self.check_tables()
        self.check_workflow()
        self.check_documents()

    # -- form ----------------------------------------------------------------
    def check_form(self) -> set[str] | None:
        """Check `$ref`s and `x-computed`; return the category values (None if no such field)."""
        if self.form is None or self.matter.form is None:
            return None
        resolver = self.registry.resolver(base_uri=self.matter.form_uri)
        categories: list[tuple[str, set[str]]] = []
        for where, node in _schemas(self.form, ""):
            ref = node.get("$ref")
            if isinstance(ref, str):
                try:
                    resolver.lookup(ref)
                except Unresolvable:
                    self.reader.problem(self.matter.form.path, f"{where}/$ref", _("$ref %(ref)s cannot be resolved",
                                                                                  ref=repr(ref)))
            computed = node.get("x-computed")
            if computed is not None and computed not in self.computed:
                self.reader.problem(
                    self.matter.form.path, f"{where}/x-computed",
                    _("Computed value %(name)s is not defined in rules.yaml", name=repr(computed)),
                )
            if node.get("x-category") is True:
                categories.append((where, {str(v) for v in node.get("enum") or []}))
        if len(categories) > 1:
            self.reader.problem(self.matter.form.path, categories[1][0], _("Only one field may be marked x-category"))
        return categories[0][1] if categories else None

    def field_schema(self, path: list[str], start: Any | None = None) -> Any | None:
        """The subschema at dotted `path` in the form, or None if there is no such field."""
        resolver = self.registry.resolver(base_uri=self.matter.form_uri)
        nodes = [(start if start is not None else self.form, resolver)]
        for segment in path:
            found = []
            for node, res in nodes:
                found.extend(_child(node, res, segment))
            if not found:
                return None
            nodes = found
        return nodes[0][0]

    # -- JSON Logic ----------------------------------------------------------
    def check_logic(self, expr: Any, file: Any, where: str) -> None:
        for name, at, item in _logic_vars(expr, where, None):
            message = self.unknown_variable(name, item)
            if message:
                self.reader.problem(file, at, message)

    def item_schema(self, source: str | None) -> Any:
        """Schema of the items of the array variable `source`, or _UNKNOWN."""
        if not source or not source.startswith("data.") or self.form is None:
            return _UNKNOWN
        array = self.field_schema(source[len("data.") :].split("."))
        if array is None:
            return _UNKNOWN
        items = self.field_schema(["0"], array)
        return items if items is not None else _UNKNOWN

    def unknown_variable(self, name: str, item: Any) -> str | None:
        if item is not None:
            source, reducing = item
            scope = self.item_schema(source)
            if reducing:
                if name == "accumulator" or name.startswith("accumulator."):
                    return None
                if name != "current" and not name.startswith("current."):
                    return _("Inside reduce only current or accumulator may be used, not %(name)s", name=repr(name))
                name = name[len("current") :].lstrip(".")
            if scope is _UNKNOWN or name == "":
                return None
            if self.field_schema(name.split("."), scope) is None:
                return _("The rule names a field %(name)s that the list items do not have", name=repr(name))
            return None
        head, _dot, rest = name.partition(".")
        if head == "data":
            if self.form is not None and self.field_schema(rest.split(".")) is None:
                return _("The rule names a field %(name)s that the form does not have", name=repr(rest))
        elif head == "params":
            if rest not in self.params:
                return _("The rule names a parameter %(name)s that parameters.yaml does not have", name=repr(rest))
        elif head == "computed":
            if rest not in self.computed:
                return _("The rule names a computed value %(name)s that is not defined", name=repr(rest))
        elif head == "meta":
            if rest not in META_VARIABLES:
                return _("Unknown meta variable %(name)s (available: %(names)s)", name=repr(rest),
                         names=", ".join(sorted(META_VARIABLES)))
        else:
            return _("Variable %(name)s should start with data., computed., params. or meta.", name=repr(name))
        return None

    # -- materials, rules, tables -------------------------------------------
    def check_materials(self, categories: set[str] | None) -> None:
        doc = self.matter.materials
        if doc is None:
            return
        self.check_material_fields()
        for cat, spec in (self.materials.get("categories") or {}).items():
            where = f"/categories/{pointer([cat])[1:]}"
            if categories is not None and cat not in categories:
                self.reader.problem(doc.path, where, _(
                    "Category %(category)s is not one of the values of the form's category field (x-category)",
                    category=repr(cat)))
            if categories is None:
                self.reader.problem(doc.path, where, _("The form has no category field marked x-category"))
            for listing in ("required", "optional"):
                for i, item in enumerate(spec.get(listing) or []):
                    kind = item if isinstance(item, str) else item.get("kind")
                    if kind not in self.kinds:
                        message = _("Category %(category)s names a material %(kind)s that does not exist",
                                    category=repr(cat), kind=repr(kind))
                        self.reader.problem(doc.path, f"{where}/{listing}/{i}", message)
                    if isinstance(item, dict) and "when" in item:
                        self.check_logic(item["when"], doc.path, f"{where}/{listing}/{i}/when")

    def check_material_fields(self) -> None:
        """`upload_path` and every kind's `field` (or `<upload_path>.<kind>`) are fields of the form."""
        doc = self.matter.materials
        if doc is None or self.form is None:
            return
        upload_path = self.materials.get("upload_path")
        uploads_ok = isinstance(upload_path, str) and self.field_schema(upload_path.split(".")) is not None
        if isinstance(upload_path, str) and not uploads_ok:
            self.reader.problem(doc.path, "/upload_path", _("upload_path %(path)s is not a field of the form",
                                                            path=repr(upload_path)))
        for kind, spec in (self.materials.get("kinds") or {}).items():
            field = spec.get("field") if isinstance(spec, dict) else None
            where = f"/kinds/{pointer([kind])[1:]}"
            if isinstance(field, str):
                if self.field_schema(field.split(".")) is None:
                    message = _("The field %(field)s of material %(kind)s is not a field of the form",
                                field=repr(field), kind=repr(kind))
                    self.reader.problem(doc.path, f"{where}/field", message)
            elif uploads_ok and self.field_schema([*str(upload_path).split("."), kind]) is None:
                message = _("Material %(kind)s has no field in the form: %(path)s does not exist and no field is given",
                            kind=repr(kind), path=f"{upload_path}.{kind}")
                self.reader.problem(doc.path, where, message)

    def check_rules(self, categories: set[str] | None) -> None:
        doc = self.matter.rules
        if doc is None:
            return
        for name, spec in (self.rules.get("computed") or {}).items():
            self.check_logic(spec.get("logic"), doc.path, f"/computed/{name}/logic")
        for cat, spec in (self.rules.get("eligibility") or {}).items():
            where = f"/eligibility/{cat}"
            if categories is not None and cat not in categories:
                self.reader.problem(doc.path, where, _(
                    "Category %(category)s is not one of the values of the form's category field (x-category)",
                    category=repr(cat)))
            for i, cond in enumerate(spec.get("conditions") or []):
                self.check_logic(cond.get("logic"), doc.path, f"{where}/conditions/{i}/logic")
                for j, shown in enumerate(cond.get("shows") or []):
                    self.check_logic({"var": shown}, doc.path, f"{where}/conditions/{i}/shows/{j}")

    def check_tables(self) -> None:
        for table in self.matter.tables.values():
            for i, row in enumerate(self._content(table).get("rows") or []):
                kind = row.get("material")
                if kind is not None and kind not in self.kinds:
                    self.reader.problem(table.path, f"/rows/{i}/material",
                                        _("Material %(kind)s is not in materials.yaml", kind=repr(kind)))

    # -- workflow ------------------------------------------------------------
    def check_workflow(self) -> None:
        doc = self.matter.workflow
        if doc is None or not self.workflow:
            return
        wf, path = self.workflow, doc.path
        if wf.get("id") != self.matter.id:
            self.reader.problem(path, "/id", _("id %(id)s should be the matter id %(matter)s",
                                               id=repr(wf.get("id")), matter=repr(self.matter.id)))
        roles = set(wf.get("roles") or {}) | set(BUILTIN_ROLES)
        notices = set(wf.get("notices") or {})
        action_ids: set[str] = set()
        if wf.get("start") not in self.stages:
            self.reader.problem(path, "/start", _("The start stage %(stage)s does not exist",
                                                  stage=repr(wf.get("start"))))
        for sid, stage in self.stages.items():
            where = f"/stages/{sid}"
            kind = stage.get("kind", "review")
            table = stage.get("table")
            if table is not None and table not in self.matter.tables:
                self.reader.problem(path, f"{where}/table", _(
                    "Stage %(stage)s names a review table %(table)s that does not exist",
                    stage=repr(sid), table=repr(table)))
            owner = stage.get("owner") or {}
            if kind != END_KIND and not owner:
                self.reader.problem(path, where, _("Stage %(stage)s has no owning role (owner)", stage=repr(sid)))
            if owner and owner.get("role") not in roles:
                self.reader.problem(path, f"{where}/owner/role", _("Role %(role)s is not defined in roles",
                                                                   role=repr(owner.get("role"))))
            for target in stage.get("join") or []:
                if target not in self.stages:
                    self.reader.problem(path, f"{where}/join", _("The joined stage %(stage)s does not exist",
                                                                 stage=repr(target)))
            if kind == TIMER_KIND and stage.get("on_expiry") not in self.stages:
                self.reader.problem(path, f"{where}/on_expiry", _(
                    "The stage entered on expiry %(stage)s does not exist", stage=repr(stage.get("on_expiry"))))
            for aid, action in (stage.get("actions") or {}).items():
                action_ids.add(aid)
                self.check_action(action, f"{where}/actions/{aid}", roles, notices)
            if kind != END_KIND and not stage_targets(stage):
                self.reader.problem(path, where, _("Stage %(stage)s has no way out: no action leaves it",
                                                   stage=repr(sid)))
        for aid, action in (wf.get("citizen") or {}).items():
            self.check_action(action, f"/citizen/{aid}", roles, notices)
            frm = action.get("from", "any")
            for sid in [] if frm == "any" else frm:
                if sid not in self.stages:
                    self.reader.problem(path, f"/citizen/{aid}/from",
                                        _("Stage %(stage)s does not exist", stage=repr(sid)))
        commitment = wf.get("commitment") or {}
        if commitment.get("starts_on") and commitment["starts_on"] not in action_ids:
            self.reader.problem(path, "/commitment/starts_on", _("Action %(action)s does not exist",
                                                                 action=repr(commitment["starts_on"])))
        self.check_reachable()
        self.check_fork_regions()
        for nid, notice in (wf.get("notices") or {}).items():
            template = notice.get("template")
            if template and not self.template_exists(template):
                self.reader.problem(path, f"/notices/{nid}/template", _(
                    "Template %(template)s does not exist under renderers/", template=repr(template)))

    def template_exists(self, template: str) -> bool:
        return (self.renderers / self.pack.id / template).is_file() or (self.renderers / template).is_file()

    def check_action(self, action: dict[str, Any], where: str, roles: set[str], notices: set[str]) -> None:
        path = self.matter.workflow.path  # type: ignore[union-attr]
        targets = action.get("to")
        for target in targets if isinstance(targets, list) else [targets] if targets else []:
            if target not in self.stages:
                self.reader.problem(path, f"{where}/to", _("The target stage %(stage)s does not exist",
                                                           stage=repr(target)))
        if action.get("notice") is not None and action["notice"] not in notices:
            self.reader.problem(path, f"{where}/notice", _("Notice %(notice)s is not defined in notices",
                                                           notice=repr(action["notice"])))
        guard = action.get("guard") or {}
        if guard.get("role") is not None and guard["role"] not in roles:
            self.reader.problem(path, f"{where}/guard/role", _("Role %(role)s is not defined in roles",
                                                               role=repr(guard["role"])))
        if "rule" in guard:
            self.check_logic(guard["rule"], path, f"{where}/guard/rule")

    def check_reachable(self) -> None:
        start = self.workflow.get("start")
        if start not in self.stages:
            return
        reached, todo = {start}, [start]
        while todo:
            for target in stage_targets(self.stages.get(todo.pop()) or {}):
                if target in self.stages and target not in reached:
                    reached.add(target)
                    todo.append(target)
        for action in (self.workflow.get("citizen") or {}).values():
            target = action.get("to")
            if target in self.stages:
                reached.add(target)
        for sid in self.stages:
            if sid not in reached:
                self.reader.problem(self.matter.workflow.path, f"/stages/{sid}",  # type: ignore[union-attr]
                                    _("No action reaches stage %(stage)s", stage=repr(sid)))

    def check_fork_regions(self) -> None:
        """Inside parallel branches, every way out leads to a stage of the branches, their join or an end stage.

        An action leaving the branches for another stage (a send-back to
        before the fork, a jump past the join) leaves the other branches
        running and the join waiting with an arrival from the earlier round.
        """
        from formflow.text.catalogue import _

        stages = {sid: st for sid, st in self.stages.items() if isinstance(st, dict)}

        def edges(sid: str, skip: tuple[str, str] | None = None) -> list[tuple[str, str, str]]:
            """(pointer, label, target) of every way out of a stage."""
            stage = stages.get(sid) or {}
            out: list[tuple[str, str, str]] = []
            for aid, action in (stage.get("actions") or {}).items():
                if (sid, aid) == skip or not isinstance(action, dict):
                    continue
                out.extend((f"/stages/{sid}/actions/{aid}/to", str(aid), t) for t in action_targets(action))
            if stage.get("kind") == TIMER_KIND and stage.get("on_expiry"):
                out.append((f"/stages/{sid}/on_expiry", "on_expiry", str(stage["on_expiry"])))
            return [e for e in out if e[2] in stages]

        def is_end(sid: str) -> bool:
            return stages[sid].get("kind") == END_KIND

        def joins_of(sid: str) -> set[str]:
            return {str(j) for j in stages[sid].get("join") or []}

        start = self.workflow.get("start")
        citizen = [str(t) for a in (self.workflow.get("citizen") or {}).values() if isinstance(a, dict)
                   for t in action_targets(a)]
        for fork_id, fork in stages.items():
            for aid, action in (fork.get("actions") or {}).items():
                targets = [t for t in action_targets(action) if t in stages] if isinstance(action, dict) else []
                if len(targets) < 2:
                    continue
                # stages reached without this fork: before it, or elsewhere in the workflow
                before, todo = set(), [s for s in [start, *citizen] if s in stages]
                while todo:
                    sid = todo.pop()
                    if sid not in before:
                        before.add(sid)
                        todo.extend(t for _p, _l, t in edges(sid, skip=(fork_id, aid)))
                # forward from the branches, stopping at joins and end stages
                reached, joins, todo = set(), set(), list(targets)
                while todo:
                    sid = todo.pop()
                    if sid in reached or sid in joins:
                        continue
                    if joins_of(sid) and sid not in targets:
                        joins.add(sid)
                    elif not is_end(sid):
                        reached.add(sid)
                        todo.extend(t for _p, _l, t in edges(sid))
                joins = {j for j in joins if joins_of(j) & reached}
                # the branches: reached from the fork, not from elsewhere, and on the way to the join
                region = reached - before
                if joins:
                    leads, todo = set(joins), list(joins)
                    while todo:
                        sid = todo.pop()
                        for other in reached:
                            if other not in leads and any(t == sid for _p, _l, t in edges(other)):
                                leads.add(other)
                                todo.append(other)
                    region &= leads | set(targets)
                join_names = ", ".join(repr(j) for j in sorted(joins)) or "-"
                for sid in sorted(region):
                    for where, label, target in edges(sid):
                        if target in region or target in joins or is_end(target):
                            continue
                        self.reader.problem(self.matter.workflow.path, where, _(  # type: ignore[union-attr]
                            "%(way)s of stage %(stage)s leaves the parallel branches that %(fork)s starts for "
                            "stage %(target)s: inside parallel branches a way out may only lead to a stage of "
                            "the branches, to their join (%(joins)s) or to an end stage.",
                            way=repr(label), stage=repr(sid), fork=repr(f"{fork_id}.{aid}"), target=repr(target),
                            joins=join_names))

    def check_documents(self) -> None:
        notices = set(self.workflow.get("notices") or {})
        index = list(self.pack.manifest.content.get("matters") or []).index(self.matter.entry)
        for i, document in enumerate(self.matter.entry.get("documents") or []):
            notice = document.get("notice")
            if notice is not None and notice not in notices:
                self.reader.problem(
                    self.pack.manifest.path,
                    f"/matters/{index}/documents/{i}/notice",
                    _("Notice %(notice)s is not defined in the workflow's notices", notice=repr(notice)),
                )


def _end_results(matter: Matter | None) -> set[str]:
    wf = matter.workflow.content if matter is not None and matter.workflow else None
    stages = (wf.get("stages") or {}) if isinstance(wf, dict) else {}
    return {str(st.get("result")) for st in stages.values()
            if isinstance(st, dict) and st.get("kind") == END_KIND and st.get("result")}


#: Variables an allocation expression over a household may read (besides facts. and params.).
HOUSEHOLD_VARIABLES = frozenset({"code", "approved_on", "queued_on", "since", "declines"})


def _check_allocation(check: _MatterCheck, roles: set[str]) -> None:
    """allocation.yaml: results, modes, follow-up matters, roles, facts and every expression's names."""
    doc, pack, matter, reader = check.matter.allocation, check.pack, check.matter, check.reader
    if doc is None or not isinstance(doc.content, dict):
        return
    spec = doc.content
    path = doc.path
    entry = spec.get("entry") or {}
    if entry.get("result") is not None and entry["result"] not in _end_results(matter):
        reader.problem(path, "/entry/result", _("Workflow %(matter)s has no end stage with result %(result)s",
                                                matter=repr(matter.id), result=repr(entry["result"])))
    check.check_logic(entry.get("mode"), path, "/entry/mode")
    household = spec.get("household") or {}
    for key in ("name", "id_number"):
        check.check_logic(household.get(key), path, f"/household/{key}")
    facts = household.get("facts") or {}
    for name, fact in facts.items():
        check.check_logic((fact or {}).get("logic"), path, f"/household/facts/{name}/logic")
    if household.get("size") is not None and household["size"] not in facts:
        reader.problem(path, "/household/size", _("Household size %(name)s is not one of household.facts",
                                                  name=repr(household["size"])))
    modes = spec.get("modes") or {}
    follow_ups: set[str] = set()
    for mid, mode in modes.items():
        target = (mode or {}).get("follow_up")
        if target is None:
            continue
        if target not in pack.matters:
            reader.problem(path, f"/modes/{mid}/follow_up", _(
                "Follow-up matter %(matter)s is not among the matters of pack.yaml", matter=repr(target)))
        else:
            follow_ups.add(target)
    for part, listed in (spec.get("roles") or {}).items():
        for i, role in enumerate(listed if isinstance(listed, list) else []):
            if role not in roles:
                reader.problem(path, f"/roles/{part}/{i}",
                               _("Role %(role)s is not defined in any workflow of this pack", role=repr(role)))
    waiting = spec.get("waiting_list") or {}
    for i, key in enumerate(waiting.get("order") or []):
        _check_household_logic(check, (key or {}).get("logic"), facts, f"/waiting_list/order/{i}/logic")
    for listing, where in ((waiting.get("public_columns"), "/waiting_list/public_columns"),
                           ((spec.get("subsidy") or {}).get("columns"), "/subsidy/columns")):
        for i, name in enumerate(listing or []):
            if name not in facts:
                reader.problem(path, f"{where}/{i}", _("%(name)s is not one of household.facts",
                                                       name=repr(name)))
    subsidy = spec.get("subsidy")
    if subsidy is not None:
        _check_household_logic(check, subsidy.get("monthly_amount"), facts, "/subsidy/monthly_amount")
        if not any((m or {}).get("kind") == "subsidy" for m in modes.values()):
            reader.problem(path, "/subsidy", _("subsidy is configured, but modes has no mode of kind subsidy"))
    lottery = spec.get("lottery")
    if lottery is not None:
        chosen = lottery.get("mode")
        if chosen is not None and (modes.get(chosen) or {}).get("kind") != "flat":
            reader.problem(path, "/lottery/mode", _("%(mode)s is not a mode of kind flat", mode=repr(chosen)))
        if chosen is None and not any((m or {}).get("kind") == "flat" for m in modes.values()):
            reader.problem(path, "/lottery", _("lottery is configured, but modes has no mode of kind flat"))
    results = set().union(*(_end_results(pack.matters[m]) for m in follow_ups)) if follow_ups else set()
    for result in ((spec.get("follow_up") or {}).get("outcomes") or {}):
        if result not in results:
            reader.problem(path, f"/follow_up/outcomes/{result}",
                           _("The follow-up matter's workflow has no end stage with result %(result)s",
                             result=repr(result)))


def _check_household_logic(check: _MatterCheck, expr: Any, facts: dict[str, Any], where: str) -> None:
    path = check.matter.allocation.path  # type: ignore[union-attr]
    for name, at, _item in _logic_vars(expr, where, None):
        head, _dot, rest = name.partition(".")
        if head == "household":
            field, _dot, sub = rest.partition(".")
            if field == "facts" and sub.split(".")[0] in facts:
                continue
            if field in HOUSEHOLD_VARIABLES and not sub:
                continue
            check.reader.problem(path, at, _(
                "Unknown household variable %(name)s (available: household.facts.<name>, %(names)s)",
                name=repr(name), names=_(", ").join("household." + v for v in sorted(HOUSEHOLD_VARIABLES))))
        elif head == "params":
            if rest not in check.params:
                check.reader.problem(path, at, _(
                    "The rule names a parameter %(name)s that parameters.yaml does not have", name=repr(rest)))
        elif head == "meta":
            if rest not in META_VARIABLES:
                check.reader.problem(path, at, _("Unknown meta variable %(name)s", name=repr(rest)))
        else:
            check.reader.problem(path, at, _("Variable %(name)s should start with household., params. or meta.",
                                             name=repr(name)))


_UNKNOWN = object()
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_ONE = ("if", "then", "else", "not", "items", "contains", "additionalProperties")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")


def _schemas(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every subschema of a schema, with its JSON pointer."""
    if not isinstance(node, dict):
        return
    yield where, node
    for key in _SUBSCHEMA_ONE:
        yield from _schemas(node.get(key), f"{where}/{key}")
    for key in _SUBSCHEMA_LISTS:
        for i, sub in enumerate(node.get(key) or []):
            yield from _schemas(sub, f"{where}/{key}/{i}")
    for key in _SUBSCHEMA_MAPS:
        for name, sub in (node.get(key) or {}).items():
            yield from _schemas(sub, f"{where}/{key}{pointer([name])}")


def _child(node: Any, resolver: Any, segment: str) -> list[tuple[Any, Any]]:
    """Schemas that `segment` leads to from `node`, following `$ref` and combinators."""
    if not isinstance(node, dict):
        return []
    if isinstance(node.get("$ref"), str):
        try:
            resolved = resolver.lookup(node["$ref"])
        except Unresolvable:
            return []
        return _child(resolved.contents, resolved.resolver, segment)
    found = []
    if segment.isdigit() and isinstance(node.get("items"), dict):
        found.append((node["items"], resolver))
    props = node.get("properties") or {}
    if segment in props:
        found.append((props[segment], resolver))
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key) or []:
            found.extend(_child(sub, resolver, segment))
    for key in ("then", "else"):
        found.extend(_child(node.get(key), resolver, segment))
    for sub in (node.get("dependentSchemas") or {}).values():
        found.extend(_child(sub, resolver, segment))
    return found


def _logic_vars(expr: Any, where: str, item: Any) -> Iterator[tuple[str, str, Any]]:
    """(variable name, pointer, item scope) for every `var` in a JSON Logic expression.

    Inside map/filter/all/some/none/reduce the body's variables are relative
    to the array item; the scope then carries the item's schema when known.
    """
    if isinstance(expr, list):
        for i, sub in enumerate(expr):
            yield from _logic_vars(sub, f"{where}/{i}", item)
        return
    if not isinstance(expr, dict) or len(expr) != 1:
        return
    op, args = next(iter(expr.items()))
    at = f"{where}{pointer([op])}"
    if op == "var":
        name = args[0] if isinstance(args, list) and args else args
        if isinstance(name, str) and name != "":
            yield name, at, item
        return
    if op in ITERATING_OPS and isinstance(args, list) and args:
        yield from _logic_vars(args[0], f"{at}/0", item)
        source = args[0].get("var") if isinstance(args[0], dict) else None
        known = source if item is None and isinstance(source, str) else None
        body_scope = (known, op == "reduce")
        for i, sub in enumerate(args[1:2], start=1):
            yield from _logic_vars(sub, f"{at}/{i}", body_scope)
        for i, sub in enumerate(args[2:], start=2):
            yield from _logic_vars(sub, f"{at}/{i}", item)
        return
    yield from _logic_vars(args, at, item)
