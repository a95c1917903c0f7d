"""Checks of a matter's workflow, parallel branches included.

Stages, owners, tables, targets, notices and templates; every stage reached
and every stage with a way out; inside parallel branches a way out leads only
to a stage of the branches, to their join or to an end stage.
"""

from __future__ import annotations

from typing import Any

from formflow.auth.roles import BUILTIN_ROLES
from formflow.packs.checks.scope import MatterScope
from formflow.packs.checks.suggest import best_guess, did_you_mean
from formflow.packs.checks.walking import logic_vars
from formflow.text.catalogue import _
from formflow.workflow.spec import END_KIND, LOTTERY_KIND, TIMER_KIND, action_targets, stage_targets

#: keys only a lottery stage has; keys a lottery stage may not have (the draw alone moves it)
LOTTERY_KEYS = ("on_win", "on_lose", "entrant")
NOT_ON_LOTTERY = ("actions", "table", "form", "duration", "on_expiry", "objections", "expiry_notice", "join")


class WorkflowChecks(MatterScope):
    """The workflow checks of one matter."""

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
                                                  stage=repr(wf.get("start"))) + self.stage_hint(wf.get("start")))
        for sid, stage in self.stages.items():
            where = f"/stages/{sid}"
            kind = stage.get("kind", "review")
            table = stage.get("table")
            if table is not None and table not in self.matter.tables and table not in self.unparsed_tables:
                self.reader.problem(path, f"{where}/table", _(
                    "Stage %(stage)s names a review table %(table)s that does not exist",
                    stage=repr(sid), table=repr(table)) + did_you_mean(table, self.matter.tables))
            owner = stage.get("owner") or {}
            if kind != END_KIND and not owner:
                self.reader.problem(path, where, _("Stage %(stage)s has no owning role (owner)", stage=repr(sid)))
            if owner and owner.get("role") not in roles:
                self.reader.problem(path, f"{where}/owner/role", _("Role %(role)s is not defined in roles",
                                                                   role=repr(owner.get("role")))
                                    + did_you_mean(owner.get("role"), roles))
            level = owner.get("level") if isinstance(owner, dict) else None
            if isinstance(level, str) and self.levels is not None and level not in self.levels:
                self.reader.problem(path, f"{where}/owner/level", _(
                    "Stage %(stage)s is owned at level %(level)s, but offices.yaml has no office of that level, "
                    "so nobody can act at it (levels with offices: %(levels)s)", stage=repr(sid), level=repr(level),
                    levels=_(", ").join(sorted(self.levels)) or "-") + did_you_mean(level, self.levels))
            for target in stage.get("join") or []:
                if target not in self.stages:
                    self.reader.problem(path, f"{where}/join", _("The joined stage %(stage)s does not exist",
                                                                 stage=repr(target)) + self.stage_hint(target))
            if kind == TIMER_KIND and stage.get("on_expiry") not in self.stages:
                self.reader.problem(path, f"{where}/on_expiry", _(
                    "The stage entered on expiry %(stage)s does not exist", stage=repr(stage.get("on_expiry")))
                    + self.stage_hint(stage.get("on_expiry")))
            if kind == LOTTERY_KIND or any(key in stage for key in LOTTERY_KEYS):
                self.check_lottery_stage(sid, stage, where)
            if "form" in stage:
                self.check_stage_form(stage, where)
            expiry_notice = stage.get("expiry_notice")
            if expiry_notice is not None and (kind != TIMER_KIND or expiry_notice not in notices):
                self.reader.problem(path, f"{where}/expiry_notice", _(
                    "Notice %(notice)s is not defined in notices", notice=repr(expiry_notice))
                    + did_you_mean(expiry_notice, notices)
                    if kind == TIMER_KIND else _("Only a timer stage moves on by itself and issues expiry_notice"))
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
                                        _("Stage %(stage)s does not exist", stage=repr(sid)) + self.stage_hint(sid))
        commitment = wf.get("commitment") or {}
        if commitment.get("starts_on") and commitment["starts_on"] not in action_ids:
            self.reader.problem(path, "/commitment/starts_on", _("Action %(action)s does not exist",
                                                                 action=repr(commitment["starts_on"]))
                                + did_you_mean(commitment["starts_on"], action_ids))
        self.check_reachable()
        self.check_fork_regions()
        self.check_read_ahead()
        for nid, notice in (wf.get("notices") or {}).items():
            template = notice.get("template")
            if template and not self.template_exists(template):
                self.reader.problem(path, f"/notices/{nid}/template", _(
                    "Template %(template)s does not exist under renderers/", template=repr(template)))

    def check_lottery_stage(self, sid: str, stage: dict[str, Any], where: str) -> None:
        """A lottery stage names existing `on_win` / `on_lose` stages, has no actions of its own, and its
        entrants' size can be read (its `entrant.size`, or the matter's allocation.yaml household size)."""
        path = self.matter.workflow.path  # type: ignore[union-attr]
        if stage.get("kind") != LOTTERY_KIND:
            for key in LOTTERY_KEYS:
                if key in stage:
                    self.reader.problem(path, f"{where}/{key}", _(
                        "Only a lottery stage (kind: lottery) is moved by a draw and has %(key)s", key=key))
            return
        for key in ("on_win", "on_lose"):
            target = stage.get(key)
            if target not in self.stages:
                self.reader.problem(path, f"{where}/{key}", _(
                    "The stage %(key)s of lottery stage %(stage)s leads to does not exist: %(target)s",
                    key=key, stage=repr(sid), target=repr(target)) + self.stage_hint(target))
        for key in NOT_ON_LOTTERY:
            if key in stage:
                self.reader.problem(path, f"{where}/{key}", _(
                    "A lottery stage is moved only by its draw (on_win, on_lose); it may not have %(key)s",
                    key=key))
        raw = stage.get("entrant")
        entrant: dict[str, Any] = raw if isinstance(raw, dict) else {}
        for key in ("size", "name"):
            if key in entrant:
                self.check_stage_logic(entrant[key], path, f"{where}/entrant/{key}")
        allocation = self.matter.allocation.content if self.matter.allocation is not None else None
        lottery = allocation.get("lottery") if isinstance(allocation, dict) else None
        if not isinstance(lottery, dict):
            self.reader.problem(path, where, _(
                "Lottery stage %(stage)s is drawn on the housing lottery pages: the matter needs an "
                "allocation.yaml with lottery (its title and the roles allowed to draw)", stage=repr(sid)))
        elif "size" not in entrant and not ((allocation or {}).get("household") or {}).get("size"):
            self.reader.problem(path, f"{where}/entrant", _(
                "Lottery stage %(stage)s needs entrant.size (the household size the flats are matched on)",
                stage=repr(sid)))

    def check_read_ahead(self) -> None:
        """`read_ahead` grants: each role declared and owning a stage of this workflow (a grant holds at
        the levels where the role owns one), each `from` an existing stage."""
        grants = self.workflow.get("read_ahead")
        if not isinstance(grants, list):
            return
        path = self.matter.workflow.path  # type: ignore[union-attr]
        declared = set(self.workflow.get("roles") or {})
        owning = {str((st.get("owner") or {}).get("role")) for st in self.stages.values()
                  if isinstance(st, dict) and isinstance(st.get("owner"), dict)}
        for i, grant in enumerate(grants):
            if not isinstance(grant, dict):
                continue
            for j, role in enumerate(grant.get("roles") or []):
                if role not in declared:
                    self.reader.problem(path, f"/read_ahead/{i}/roles/{j}", _(
                        "Role %(role)s is not defined in roles", role=repr(role)) + did_you_mean(role, declared))
                elif role not in owning:
                    self.reader.problem(path, f"/read_ahead/{i}/roles/{j}", _(
                        "Role %(role)s owns no stage of this workflow, so a read_ahead grant gives it nothing "
                        "(early read access is for the offices of a stage further on)", role=repr(role)))
            source = grant.get("from")
            if source is not None and source not in self.stages:
                self.reader.problem(path, f"/read_ahead/{i}/from", _(
                    "Stage %(stage)s does not exist", stage=repr(source)) + self.stage_hint(source))

    def check_stage_form(self, stage: dict[str, Any], where: str) -> None:
        """A stage form is a JSON Schema object of simple-typed fields, entered with the stage's table."""
        from formflow.reviews.stage_forms import fragment_problems

        path = self.matter.workflow.path  # type: ignore[union-attr]
        if not stage.get("table"):
            self.reader.problem(path, f"{where}/form", _(
                "A stage form is entered with the stage's review table: the stage needs a table"))
        for pointer, message in fragment_problems(stage.get("form")):
            self.reader.problem(path, f"{where}/form{pointer}", message)

    def template_exists(self, template: str) -> bool:
        return (self.renderers / self.pack.id / template).is_file() or (self.renderers / template).is_file()

    def check_action(self, action: dict[str, Any], where: str, roles: set[str], notices: set[str]) -> None:
        path = self.matter.workflow.path  # type: ignore[union-attr]
        targets = action.get("to")
        for target in targets if isinstance(targets, list) else [targets] if targets else []:
            if target not in self.stages:
                self.reader.problem(path, f"{where}/to", _("The target stage %(stage)s does not exist",
                                                           stage=repr(target)) + self.stage_hint(target))
        if action.get("notice") is not None and action["notice"] not in notices:
            self.reader.problem(path, f"{where}/notice", _("Notice %(notice)s is not defined in notices",
                                                           notice=repr(action["notice"]))
                                + did_you_mean(action["notice"], notices))
        guard = action.get("guard") or {}
        if guard.get("role") is not None and guard["role"] not in roles:
            self.reader.problem(path, f"{where}/guard/role", _("Role %(role)s is not defined in roles",
                                                               role=repr(guard["role"]))
                                + did_you_mean(guard["role"], roles))
        if "rule" in guard:
            self.check_stage_logic(guard["rule"], path, f"{where}/guard/rule")

    def check_stage_logic(self, expr: Any, file: Any, where: str) -> None:
        """A guard's rule (or a household fact): the rules' variables, plus `stage.<stage-id>.<field>`
        of a stage form."""
        for name, at, item in logic_vars(expr, where, None):
            head, _dot, rest = name.partition(".")
            if item is None and head == "stage":
                sid, _dot, field = rest.partition(".")
                form = (self.stages.get(sid) or {}).get("form") if isinstance(self.stages.get(sid), dict) else None
                props = (form or {}).get("properties") if isinstance(form, dict) else None
                if not isinstance(props, dict) or field not in props:
                    self.reader.problem(file, at, _(
                        "The rule names %(name)s, but stage %(stage)s has no such field in its form",
                        name=repr(name), stage=repr(sid)))
                continue
            message = self.unknown_variable(name, item)
            if message:
                self.reader.problem(file, at, message)
        self.check_compared_values(expr, file, where)

    def stage_hint(self, name: Any) -> str:
        return did_you_mean(name, self.stages)

    def meant_stage(self, name: Any) -> str | None:
        """The stage a name stands for: itself if it exists, else the stage it is a typo of (or None)."""
        if isinstance(name, str) and name in self.stages:
            return name
        return best_guess(name, self.stages)

    def check_reachable(self) -> None:
        """Every stage is reached from the start or a citizen action.

        A mistyped stage name (start, target, expiry) counts as the stage it
        is closest to: that typo is reported once, as unknown with its
        suggestion, and the stages behind it are not reported unreachable too.
        """
        start = self.meant_stage(self.workflow.get("start"))
        if start is None:
            return
        reached, todo = {start}, [start]
        for action in (self.workflow.get("citizen") or {}).values():
            for target in action_targets(action) if isinstance(action, dict) else []:
                meant = self.meant_stage(target)
                if meant is not None and meant not in reached:
                    reached.add(meant)
                    todo.append(meant)
        while todo:
            for target in stage_targets(self.stages.get(todo.pop()) or {}):
                meant = self.meant_stage(target)
                if meant is not None and meant not in reached:
                    reached.add(meant)
                    todo.append(meant)
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
            if stage.get("kind") == LOTTERY_KIND:
                out.extend((f"/stages/{sid}/{key}", key, str(stage[key])) for key in ("on_win", "on_lose")
                           if stage.get(key))
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
