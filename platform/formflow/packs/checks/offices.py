"""Pack-wide files: offices.yaml (unique ids, region codes) and the demo accounts' roles and offices."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from formflow.packs.loader import Pack
from formflow.packs.problems import Reader
from formflow.text.catalogue import _

REGION_KINDS = ("province", "city", "district", "street", "community")


def _walk_offices(nodes: Any, base: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for index, node in enumerate(nodes or []):
        if isinstance(node, dict):
            here = f"{base}/{index}"
            yield here, node
            yield from _walk_offices(node.get("children"), f"{here}/children")


def check_offices(pack: Pack, reader: Reader, owner: dict[str, str]) -> set[str]:
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
