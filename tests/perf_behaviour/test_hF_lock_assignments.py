"""The engine's lock reads the actor's role assignments in its own statement: the same pairs, in the same
order, as `access.assignments` — for every demo account, with an office or without, after a grant and a
revocation made between two locks."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from sqlalchemy import delete, select

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tests" / "workflow") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "workflow"))

from wf_support import MZ, Flow  # noqa: E402

from formflow.calendars.workdays import load_calendar  # noqa: E402
from formflow.db.models import Account, Office, RoleAssignment  # noqa: E402
from formflow.workflow.access import assignments  # noqa: E402
from formflow.workflow.moves import lock_live  # noqa: E402

DAY = date(2026, 3, 2)


def _pairs(held) -> list[tuple[str, tuple[str, str, str, str, str] | None]]:
    return [(role, None if o is None else (o.id, o.pack, o.name, o.level, o.path)) for role, o in held]


def _same(p, app_id: int, account_id: int) -> list:
    with p.sessions.begin() as session:
        read = _pairs(assignments(session, account_id))
        locked = lock_live(session, app_id, "community_acceptance", account_id)
        assert _pairs(locked.held) == read
        return read


def test_the_lock_reads_the_same_assignments_as_access(platform_db):
    p = platform_db
    app_id = Flow(p, load_calendar(ROOT / "seeds" / "calendar")).create(MZ, today=DAY)
    with p.sessions() as session:
        accounts = list(session.scalars(select(Account.id).order_by(Account.id)))
        offices = list(session.scalars(select(Office.id).where(Office.pack == MZ).order_by(Office.id).limit(3)))
    seen = [_same(p, app_id, account_id) for account_id in accounts]
    assert any(o is not None for read in seen for _r, o in read)  # reviewers at offices among them

    someone = accounts[-1]
    with p.sessions.begin() as session:  # grants: one without an office, then two at offices
        session.add(RoleAssignment(account_id=someone, role="configurator", office_id=None))
        for office in offices[:2]:
            session.add(RoleAssignment(account_id=someone, role="street_reviewer", office_id=office))
    granted = _same(p, app_id, someone)
    assert ("configurator", None) in granted and sum(r == "street_reviewer" for r, _o in granted) == 2
    with p.sessions.begin() as session:
        session.execute(delete(RoleAssignment).where(RoleAssignment.account_id == someone,
                                                     RoleAssignment.office_id == offices[0]))
    assert len(_same(p, app_id, someone)) == len(granted) - 1
    assert _same(p, app_id, 10**9) == []  # nobody
