"""Pack-wide files: offices.yaml (unique ids, region codes) and the demo accounts' roles and offices."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from formflow.packs.checks.suggest import did_you_mean
from formflow.packs.loader import Pack
from formflow.packs.problems import Reader
from formflow.packs.regions import REGION_KINDS, kind_title, level_of, rule_problems
from formflow.text.catalogue import _

#: The code of the warning about a workflow role nobody holds (`packs.checks.grants` drops it for granted roles).
ROLE_NOT_HELD = "role_not_held"

def _walk_offices(nodes: Any, base: str, above: str | None = None
                  ) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """(pointer, node, region code of the nearest region above it) for every office."""
    for index, node in enumerate(nodes or []):
        if isinstance(node, dict):
            here = f"{base}/{index}"
            yield here, node, above
            code = node.get("region_code") if node.get("kind") in REGION_KINDS else None
            yield from _walk_offices(node.get("children"), f"{here}/children", str(code) if code else above)


def _prefix(code: str) -> str:
    """The digits every code under `code` starts with: 360000 → 36, 360100 → 3601, 360102001 → 360102001."""
    if len(code) == 6 and code.endswith("0000"):
        return code[:2]
    if len(code) == 6 and code.endswith("00"):
        return code[:4]
    return code


def check_offices(pack: Pack, reader: Reader, owner: dict[str, str]) -> set[str]:
    ids: set[str] = set()
    if pack.offices is None or not isinstance(pack.offices.content, dict):
        return ids
    for where, node, above in _walk_offices(pack.offices.content.get("offices"), "/offices"):
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
        code = str(node.get("region_code") or "")
        if node.get("kind") in REGION_KINDS and code and above and (
                code == above or not code.startswith(_prefix(above))):
            reader.problem(pack.offices.path, f"{where}/region_code", _(
                "%(kind)s %(name)s: region code %(code)s does not lie under its parent's %(parent)s",
                kind=kind_title(str(node.get("kind"))), name=repr(node.get("name")), code=code, parent=above))
    for pointer, message in rule_problems(pack.offices.content):
        reader.problem(pack.offices.path, pointer, message)
    return ids


def check_demo(pack: Pack, reader: Reader, offices: set[str], roles: set[str], *,
               roles_known: bool = True, offices_known: bool = True) -> None:
    """Every demo grant names a defined role and an office of offices.yaml.

    `roles_known`/`offices_known` are false when a workflow or offices.yaml
    did not parse: what they define is unknown, so nothing is reported missing.
    """
    if pack.demo is None or not isinstance(pack.demo.content, dict):
        return
    for i, account in enumerate(pack.demo.content.get("accounts") or []):
        for j, grant in enumerate(account.get("roles") or []):
            where = f"/accounts/{i}/roles/{j}"
            if roles_known and grant.get("role") not in roles:
                reader.problem(pack.demo.path, f"{where}/role", _("Role %(role)s is not defined in any workflow",
                                                                  role=repr(grant.get("role")))
                               + did_you_mean(grant.get("role"), roles))
            office = grant.get("office")
            if offices_known and office is not None and str(office) not in offices:
                reader.problem(pack.demo.path, f"{where}/office", _("Office %(office)s is not in offices.yaml",
                                                                    office=repr(office))
                               + did_you_mean(str(office), offices))


def demo_roles(pack: Pack) -> set[str] | None:
    """The roles the demo accounts hold, or None when the pack has no (readable) demo.yaml."""
    if pack.demo is None or not isinstance(pack.demo.content, dict):
        return None
    return {str(grant.get("role")) for account in pack.demo.content.get("accounts") or [] if isinstance(account, dict)
            for grant in account.get("roles") or [] if isinstance(grant, dict)}


def check_roles_held(pack: Pack, reader: Reader, held: set[str]) -> None:
    """A workflow role no demo account holds: a WARNING (nobody can act at its stages until it is granted).

    Only the demo accounts of the pack are files `formflow check` can read; a
    production deployment grants roles in its database (`formflow roles grant`).
    """
    for matter in pack.matters.values():
        wf = matter.workflow.content if matter.workflow else None
        if not isinstance(wf, dict) or not isinstance(wf.get("roles"), dict):
            continue
        for role in wf["roles"]:
            if str(role) not in held:
                reader.warning(matter.workflow.path, f"/roles/{role}", _(  # type: ignore[union-attr]
                    "Role %(role)s is held by no demo account: nobody can act at the stages it owns until "
                    "someone is granted it (formflow roles grant)", role=repr(role)),
                    code=ROLE_NOT_HELD, subject=str(role))

def office_levels(pack: Pack) -> set[str] | None:
    """The levels the pack's offices act at (a region its kind; a bureau or centre its parent's), None if unknown.

    The same rule as seeding (`packs.seeding.sync_offices`): an agency takes
    its parent region's level, a top-level agency the province's.
    """
    from formflow.db.models import AGENCY_KINDS

    if pack.offices is None or not isinstance(pack.offices.content, dict):
        return None
    levels: set[str] = set()

    def visit(nodes: Any, parent_level: str | None) -> None:
        for node in nodes if isinstance(nodes, list) else []:
            if not isinstance(node, dict):
                continue
            kind = str(node.get("kind"))
            level = (parent_level or "province") if kind in AGENCY_KINDS else level_of(kind)
            levels.add(level)
            visit(node.get("children"), level)

    visit(pack.offices.content.get("offices"), None)
    return levels
