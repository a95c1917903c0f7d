"""Who may act on a stage: the owner role at the owning office of the application.

The owning office of a stage is the office of the owner's `level` on the
application's office path: an office O qualifies when O.level equals the
level and the application's path starts with O.path (bureaus and centres
carry their parent region's path and level, so they cover that region).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from formflow.auth.roles import CITIZEN
from formflow.db.models import Account, Application, Office, RoleAssignment


@dataclass(frozen=True)
class Authority:
    """The role and office an actor acts in."""

    role: str
    office_id: str | None
    office_name: str


class OfficeLike(Protocol):
    """What the checks read of an office: an `Office` row or a `HeldOffice`."""

    @property
    def id(self) -> str: ...
    @property
    def pack(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def path(self) -> str: ...


@dataclass(frozen=True)
class HeldOffice:
    """An office as the engine's lock statement reads it with the actor's assignments (no ORM row)."""

    id: str
    pack: str
    name: str
    level: str
    path: str


#: (role, office) pairs an account holds, in the order of its assignments.
Held = Sequence[tuple[str, OfficeLike | None]]


def held_from_rows(rows: list[Any] | None) -> list[tuple[str, OfficeLike | None]]:
    """`assignments` from the lock's JSON rows [assignment id, role, office id, pack, name, level, path]."""
    out: list[tuple[str, OfficeLike | None]] = []
    for _id, role, office_id, pack, name, level, path in sorted(rows or [], key=lambda row: row[0]):
        out.append((role, None if office_id is None else HeldOffice(office_id, pack, name, level, path)))
    return out


def assignments(session: Session, account_id: int) -> list[tuple[str, Office | None]]:
    """(role, office) pairs an account holds, read fresh from the database."""
    rows = session.execute(_ASSIGNMENTS, {"account_id": account_id}).all()
    return [(role, office) for role, office in rows]


_ASSIGNMENTS = (
    select(RoleAssignment.role, Office)
    .outerjoin(Office, Office.id == RoleAssignment.office_id)
    .where(RoleAssignment.account_id == bindparam("account_id"))
    .order_by(RoleAssignment.id)
)


def role_names(session: Session, account: Account, app: Application | None = None,
               held: Held | None = None) -> list[str]:
    """The roles an account holds (`citizen` for the applicant of `app`); `held`: its `assignments`, if read."""
    names = [role for role, _ in (assignments(session, account.id) if held is None else held)]
    if app is not None and account.id == app.applicant_id and CITIZEN not in names:
        names.insert(0, CITIZEN)
    return list(dict.fromkeys(names))


def serving_packs(session: Session, app: Application) -> list[str]:
    """The packs whose offices act on `app`: its own, then those it extends (as its pinned manifest says)."""
    from formflow.packs.inherit import lineage
    from formflow.packs.versions import load_pinned

    try:
        manifest = load_pinned(session, app.versions).manifest if app.versions else {}
    except LookupError:
        manifest = {}
    return [app.pack, *lineage(manifest)]


def covers(office: OfficeLike, app: Application, level: str, packs: list[str] | None = None) -> bool:
    """Whether `office` is the office of `level` for the application's jurisdiction.

    `packs`: the packs whose offices serve the application (`serving_packs`; default its own).
    """
    return (
        office.pack in (packs or [app.pack])
        and office.level == level
        and app.office_path is not None
        and app.office_path.startswith(office.path)
    )


def authority(
    session: Session, app: Application, account: Account, role: str, level: str,
    held: Held | None = None,
) -> Authority | None:
    """The account's standing as `role` at the application's `level` office, if any.

    `held`: the account's `assignments` when the caller has read them in this transaction."""
    packs = serving_packs(session, app)
    for given, office in assignments(session, account.id) if held is None else held:
        if given == role and office is not None and covers(office, app, level, packs):
            return Authority(role=role, office_id=office.id, office_name=office.name)
    return None


def office_name(session: Session, app: Application, level: str | None = None) -> str:
    """Name of the application's office at `level` (its own office when none is given)."""
    if app.office_id is None:
        return ""
    office = session.get(Office, app.office_id)
    while office is not None and level is not None and office.level != level:
        office = office.parent
    return office.name if office is not None else ""
