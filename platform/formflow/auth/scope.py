"""Which packs a configurator configures: those of the offices the role is held at.

A configurator role held at an office of a pack configures that pack only; held
without an office it is the platform's configurator and configures every pack.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from formflow.auth.roles import CONFIGURATOR
from formflow.workflow.access import assignments


def configured_packs(session: Session, account_id: int) -> frozenset[str] | None:
    """The pack ids the account configures (None: every pack; empty: none)."""
    packs: set[str] = set()
    for role, office in assignments(session, account_id):
        if role != CONFIGURATOR:
            continue
        if office is None:
            return None
        packs.add(office.pack)
    return frozenset(packs)
