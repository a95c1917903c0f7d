"""Roles granted in the database: a role someone was granted is not "held by nobody".

`formflow check` reads files; the demo accounts are the only grants in them.
When the deployment's database exists, the grants made with `formflow roles
grant` count too: this drops the ROLE_NOT_HELD warnings of the roles they hold.
"""

from __future__ import annotations

from pathlib import Path

from formflow.packs.checks.offices import ROLE_NOT_HELD
from formflow.packs.loader import PackSet


def granted_roles(database_url: str) -> set[tuple[str, str]] | None:
    """(pack, role) of every role granted in the database; None when there is no (migrated) database."""
    from sqlalchemy import select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    parsed = make_url(database_url)
    if parsed.drivername.startswith("sqlite") and not (parsed.database and Path(parsed.database).is_file()):
        return None
    from formflow.db import make_engine, session_factory
    from formflow.db.models import Office, RoleAssignment

    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            rows = session.execute(
                select(RoleAssignment.pack, Office.pack, RoleAssignment.role)
                .outerjoin(Office, Office.id == RoleAssignment.office_id)
            ).all()
    except SQLAlchemyError:  # not migrated yet, or not reachable: the files alone
        return None
    finally:
        engine.dispose()
    return {(str(grant_pack or office_pack), str(role)) for grant_pack, office_pack, role in rows}


def drop_granted(packset: PackSet, granted: set[tuple[str, str]] | None) -> None:
    """Remove the warnings about roles that a grant in the database holds (in the warning's pack)."""
    if not granted:
        return

    def held(problem) -> bool:
        if problem.code != ROLE_NOT_HELD:
            return False
        pack = problem.file.split("/")[1] if problem.file.count("/") >= 2 else ""
        return (pack, problem.subject) in granted or ("None", problem.subject) in granted

    packset.warnings = [w for w in packset.warnings if not held(w)]
