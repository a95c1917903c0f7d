"""Load a pack's deployment data into the database: offices, demo accounts, versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.db.models import AGENCY_KINDS, Account, Office, RoleAssignment
from formflow.packs.loader import Pack, PackSet
from formflow.packs.regions import level_of
from formflow.personal.crypto import DataKeys

PASSWORDS = PasswordHasher()


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    name: str
    roles: list[tuple[str, str | None]]
    pack: str


def sync_offices(session: Session, pack: Pack) -> int:
    """Insert or update the pack's office tree; returns how many offices it has."""
    content = pack.offices.content if pack.offices else {}
    count = 0

    def visit(nodes: Any, parent: Office | None) -> None:
        nonlocal count
        for node in nodes or []:
            office = session.get(Office, str(node["id"])) or Office(id=str(node["id"]))
            kind = node["kind"]
            office.pack = pack.id
            office.name = node["name"]
            office.kind = level_of(kind)  # a GB/T 2260 region kind is stored as its level (packs/regions.py)
            office.parent_id = parent.id if parent else None
            office.region_code = node.get("region_code")
            if kind in AGENCY_KINDS:
                office.level = parent.level if parent else "province"
                office.path = parent.path if parent else "/"
            else:
                office.level = level_of(kind)
                office.path = (parent.path if parent else "/") + f"{office.id}/"
            office.selectable = bool(node.get("selectable", False))
            session.add(office)
            session.flush()
            count += 1
            visit(node.get("children"), office)

    visit(content.get("offices"), None)
    return count


def demo_accounts(pack: Pack) -> list[DemoAccount]:
    content = pack.demo.content if pack.demo else {}
    return [
        DemoAccount(
            username=a["username"],
            password=a["password"],
            name=a.get("name", a["username"]),
            roles=[(r["role"], str(r["office"]) if r.get("office") is not None else None) for r in a.get("roles", [])],
            pack=pack.id,
        )
        for a in content.get("accounts") or []
    ]


def sync_demo_accounts(session: Session, pack: Pack, keys: DataKeys) -> list[DemoAccount]:
    """Create the pack's demo accounts that do not exist yet (existing ones are left alone)."""
    specs = {a["username"]: a for a in (pack.demo.content if pack.demo else {}).get("accounts") or []}
    created = []
    for demo in demo_accounts(pack):
        if session.scalar(select(Account).where(Account.username == demo.username)):
            created.append(demo)
            continue
        spec = specs[demo.username]
        account = Account(
            username=demo.username,
            display_name=demo.name,
            password_hash=PASSWORDS.hash(demo.password),
            is_demo=True,
        )
        if spec.get("id_number"):
            account.id_number_enc = keys.seal(spec["id_number"])
            account.id_number_hash = keys.lookup(spec["id_number"])
        if spec.get("mobile"):
            account.mobile_enc = keys.seal(spec["mobile"])
            account.mobile_hash = keys.lookup(spec["mobile"])
        account.roles = [RoleAssignment(role=r, office_id=o, pack=pack.id) for r, o in demo.roles]
        session.add(account)
        created.append(demo)
    session.flush()
    return created


def load_all(session: Session, packset: PackSet, keys: DataKeys, *, demo: bool) -> list[DemoAccount]:
    """Offices of every pack, and demo accounts when `demo` is set."""
    accounts: list[DemoAccount] = []
    for pack in packset.packs.values():
        if pack.inheritance is None:  # a child pack shares its parent's offices (packs.inherit)
            sync_offices(session, pack)
    if demo:
        for pack in packset.packs.values():
            accounts.extend(sync_demo_accounts(session, pack, keys))
    return accounts
