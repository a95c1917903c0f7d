"""Cross-file checks: every name one pack file uses must exist in another.

Meta-schemas see one file at a time; here we see the pack whole: a stage
naming a table that does not exist, a category naming an unknown material, a
`$ref` that does not resolve, a rule naming an unknown field or parameter, a
stage with no way out, a stage no action reaches, an office or role a demo
account names that is not there.

The modules: `offices` (offices.yaml and the demo accounts), `scope` (what
a matter's files define, and the names used in them), `matter` (form,
materials, rules, tables, documents, and the order of every check of a
matter), `workflow` (the workflow, parallel branches included),
`allocation` (allocation.yaml), `walking` (subschemas of a JSON Schema,
variables of a JSON Logic expression), `suggest` ("did you mean" for every
unknown name) and `templates` (every notice and message text rendered against
a sample application: undefined variables with file and line).

A file that did not parse is in `reader.broken`: checks that depend on it
are skipped (its problem, printed first, is the cause). A role no demo
account holds is a warning (`reader.warning`), not an error.
"""

from __future__ import annotations

from formflow.auth.roles import BUILTIN_ROLES
from formflow.packs.checks.allocation import check_allocation
from formflow.packs.checks.matter import MatterCheck
from formflow.packs.checks.messages import check_messages
from formflow.packs.checks.offices import check_demo, check_offices, check_roles_held, demo_roles
from formflow.packs.checks.templates import check_templates
from formflow.packs.loader import PackSet
from formflow.packs.problems import Reader

__all__ = ["cross_check"]


def cross_check(packset: PackSet, reader: Reader) -> None:
    office_owner: dict[str, str] = {}
    for pack in packset.packs.values():
        if pack.inheritance is not None:  # the parent's one office tree, checked with the parent
            offices = check_offices(packset.packs[pack.inheritance.parent], Reader(reader.root), {})
        else:
            offices = check_offices(pack, reader, office_owner)
        roles_in_pack: set[str] = set()
        checks = []
        for matter in pack.matters.values():
            checks.append(check := MatterCheck(packset, pack, matter, reader))
            check.run()
            wf = matter.workflow.content if matter.workflow else None
            if isinstance(wf, dict):
                roles_in_pack |= set(wf.get("roles") or {})
        roles_known = not any(check.unparsed["workflow"] for check in checks)
        offices_known = not reader.is_broken(packset.root / "seeds" / pack.id / "offices.yaml")
        check_demo(pack, reader, offices, roles_in_pack | set(BUILTIN_ROLES), roles_known=roles_known,
                   offices_known=offices_known)
        held = demo_roles(pack)
        if held is not None:
            check_roles_held(pack, reader, held)
        for check in checks:
            if check.matter.allocation is not None:
                check_allocation(check, roles_in_pack | set(BUILTIN_ROLES), roles_known=roles_known)
            check_messages(check)
            check_templates(check, packset)
