"""Which packs a configurator configures: those of the offices the role is held at.

A configurator role held at an office of a pack configures that pack only; held
without an office it is the platform's configurator and configures every pack.
Packs that extend another (`packs.inherit`: a city over its province) share the
province's offices: a role held at an office inside the city's region configures
the city's pack only, one held above the city's region (the province office)
configures the province and the cities under it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from formflow.auth.roles import CONFIGURATOR
from formflow.db.models import Office
from formflow.workflow.access import assignments


def configured_packs(session: Session, account_id: int, services: Any = None) -> frozenset[str] | None:
    """The pack ids the account configures (None: every pack; empty: none)."""
    packs: set[str] = set()
    for role, office in assignments(session, account_id):
        if role != CONFIGURATOR:
            continue
        if office is None:
            return None
        packs |= _packs_at(session, office, services)
    return frozenset(packs)


def _packs_at(session: Session, office: Office, services: Any) -> set[str]:
    """The packs a role held at `office` configures (its own, or the city pack whose region holds it)."""
    if services is None:
        return {office.pack}
    from formflow.packs.inherit import children_of
    from formflow.usecases.start import region_root

    out = {office.pack}
    for child in children_of(services.packs, office.pack):  # deepest first
        root = region_root(services, session, child.id)
        if root is None:
            continue
        if (office.path or "").startswith(root.path):
            return {str(child.id)}
        if root.path.startswith(office.path or "\0"):
            out.add(str(child.id))
    return out
