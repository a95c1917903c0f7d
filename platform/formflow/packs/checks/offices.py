"""Pack-wide files: offices.yaml (unique ids, region codes) and the demo accounts' roles and offices."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from formflow.packs.loader import Pack
from formflow.packs.problems import Reader
from formflow.packs.regions import REGION_KINDS, kind_title, rule_problems
from formflow.text.catalogue import _


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


def check_demo(pack: Pack, reader: Reader, offices: set[str], roles: set[str]) -> None:
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
