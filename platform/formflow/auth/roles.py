"""Roles the platform itself knows; every other role is defined by a pack's workflow."""

from __future__ import annotations

from typing import Any

from formflow.text.catalogue import lazy

CITIZEN = "citizen"
#: Service-hall window clerk: starts and submits applications for a citizen present.
WINDOW_CLERK = "window_clerk"
CONFIGURATOR = "configurator"
ADMIN = "admin"
#: Auditor: reads and exports the security log, and nothing else (no application data, no
#: configuration); kept apart from configurators and business staff (separation of duties).
AUDITOR = "auditor"

#: Titles of the built-in roles (looked up in the reader's language when shown).
BUILTIN_ROLES: dict[str, Any] = {
    CITIZEN: lazy("Applicant"),
    WINDOW_CLERK: lazy("Service-hall window clerk"),
    CONFIGURATOR: lazy("Configurator"),
    ADMIN: lazy("System administrator"),
    AUDITOR: lazy("Security auditor"),
}
