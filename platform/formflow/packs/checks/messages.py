"""Checks of messages.yaml: every id a `when` names exists in the matter's workflow, every template compiles."""

from __future__ import annotations

from typing import Any

from formflow.notifications.kinds import (
    HOUSEHOLD_ACTIONS,
    HOUSEHOLD_STATUSES,
    PLATFORM_ACTIONS,
    VARIABLES,
    compile_problem,
)
from formflow.packs.checks.matter import MatterCheck
from formflow.packs.checks.suggest import did_you_mean
from formflow.text.catalogue import _


def _workflow_ids(workflow: Any) -> tuple[set[str], set[str]]:
    """(action ids, stage ids) of a workflow document."""
    if not isinstance(workflow, dict):
        return set(), set()
    stages = workflow.get("stages") or {}
    actions = {str(a) for st in stages.values() if isinstance(st, dict) for a in (st.get("actions") or {})}
    actions |= {str(a) for a in (workflow.get("citizen") or {})}
    return actions, {str(s) for s in stages}


def check_messages(check: MatterCheck) -> None:
    doc = check.matter.messages
    if doc is None or not isinstance(doc.content, dict):
        return
    reader, path = check.reader, doc.path
    wf = check.matter.workflow.content if check.matter.workflow else None
    actions, stages = _workflow_ids(wf)
    actions |= PLATFORM_ACTIONS
    # an allocation.yaml that did not parse still exists: household kinds are not reported for it
    has_allocation = check.matter.allocation is not None or check.reader.is_broken(
        check.root / "schemas" / check.pack.id / check.matter.id / "allocation.yaml")
    for kid, kind in (doc.content.get("kinds") or {}).items():
        if not isinstance(kind, dict):
            continue
        base = f"/kinds/{kid}"
        for part in ("title", "body"):
            source = kind.get(part)
            if not isinstance(source, str):
                continue
            error, names = compile_problem(source)
            if error is not None:
                reader.problem(path, f"{base}/{part}", _("The template does not compile: %(error)s", error=error))
            for name in sorted(names - VARIABLES):
                reader.problem(path, f"{base}/{part}", _(
                    "The template uses %(name)s, which is not a message variable (%(known)s)",
                    name=repr(name), known=", ".join(sorted(VARIABLES))))
        when = kind.get("when") or {}
        known = {"actions": (actions, _("Workflow %(matter)s has no action %(id)s")),
                 "enters": (stages, _("Workflow %(matter)s has no stage %(id)s")),
                 "leaves": (stages, _("Workflow %(matter)s has no stage %(id)s")),
                 "household": (HOUSEHOLD_ACTIONS, _("%(id)s is not a household event (matter %(matter)s)")),
                 "household_status": (HOUSEHOLD_STATUSES, _("%(id)s is not a household status (matter %(matter)s)"))}
        for key, (ids, message) in known.items():
            if key in ("actions", "enters", "leaves") and check.unparsed["workflow"]:
                continue  # the workflow did not parse: its ids are unknown
            for i, value in enumerate(when.get(key) or []):
                if value not in ids:
                    reader.problem(path, f"{base}/when/{key}/{i}",
                                   message % {"matter": repr(check.matter.id), "id": repr(value)}
                                   + did_you_mean(value, ids))
        if (when.get("household") or when.get("household_status")) and not has_allocation:
            reader.problem(path, f"{base}/when", _(
                "Matter %(matter)s has no allocation.yaml, so no household event ever happens",
                matter=repr(check.matter.id)))
        if sum(bool(when.get(k)) for k in ("actions", "enters", "leaves")) and (
                when.get("household") or when.get("household_status") or "correction_due" in when):
            reader.problem(path, f"{base}/when", _(
                "A kind is sent on a workflow event, a household event or a correction deadline, not several"))
        if "correction_due" in when and "correction_deadline" not in doc.content:
            reader.problem(path, f"{base}/when/correction_due", _(
                "A reminder before the correction deadline needs correction_deadline"))
