"""PostgreSQL roles for production: a migration role owns the schema, the application role may not rewrite history.

The application connects as a role that is not the owner of any table, so it can
neither `DISABLE TRIGGER` nor drop or truncate a table; on the append-only tables
(`APPEND_ONLY`) it may only read and add rows. Everything else it may read and
change. Print the statements for a role with

    python -m formflow.db.roles formflow_app | psql -U formflow_migrator formflow

after each `formflow db upgrade` (run as the migration role), so new tables are covered.
"""

from __future__ import annotations

import re
import sys

#: Tables whose rows are never changed or deleted. A module adding one appends its name here
#: (the security log of the authentication work: "security_events").
APPEND_ONLY: list[str] = ["events", "access_records", "household_events", "security_log"]

_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def app_role_grants(role: str, tables: list[str] | None = None) -> list[str]:
    """The GRANT/REVOKE statements giving `role` the application's rights on the current schema."""
    if not _ROLE.match(role):
        raise ValueError(role)
    append_only = ", ".join(tables if tables is not None else APPEND_ONLY)
    return [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {append_only} FROM {role}",
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    ]


if __name__ == "__main__":  # pragma: no cover - a deployment helper
    for statement in app_role_grants(sys.argv[1] if len(sys.argv) > 1 else "formflow_app"):
        print(statement + ";")
