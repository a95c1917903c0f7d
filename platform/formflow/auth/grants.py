"""Granting and revoking roles: every change ends the account's sessions (web and API) and is logged.

The auditor role is kept apart (separation of duties): an auditor holds no other staff role, and a
configurator or member of staff cannot be made auditor.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.auth import seclog
from formflow.auth.roles import AUDITOR, CITIZEN
from formflow.db.models import Account, Office, RoleAssignment
from formflow.text.catalogue import _


class GrantError(ValueError):
    """The account, office or grant named does not exist; the message says which."""


def _account(session: Session, username: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise GrantError(_("Account %(name)s does not exist", name=repr(username)))
    return account


def _cli_user() -> str:
    """Who changed roles from the command line (the operating-system user)."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user name in this environment
        return "cli"


def _apart(account: Account, role: str) -> None:
    """Refuse a grant that would join the auditor role with a staff or configuration role."""
    held = {r.role for r in account.roles} - {CITIZEN}
    if (role == AUDITOR and held - {AUDITOR}) or (role not in (AUDITOR, CITIZEN) and AUDITOR in held):
        raise GrantError(_("The auditor role cannot be held together with staff or configuration roles "
                           "(account %(name)s)", name=repr(account.username)))


def grant_role(session: Session, username: str, role: str, office_id: str | None = None, *,
               by: str | None = None, address: str = "") -> RoleAssignment:
    """Give `username` the role (at the office); its other sessions end."""
    account = _account(session, username)
    _apart(account, role)
    office = session.get(Office, office_id) if office_id else None
    if office_id and office is None:
        raise GrantError(_("Office %(office)s does not exist", office=repr(office_id)))
    existing = session.scalar(select(RoleAssignment).where(
        RoleAssignment.account_id == account.id, RoleAssignment.role == role,
        RoleAssignment.office_id.is_(None) if office_id is None else RoleAssignment.office_id == office_id))
    if existing is not None:
        return existing
    grant = RoleAssignment(account_id=account.id, role=role, office_id=office_id,
                           pack=office.pack if office else None)
    session.add(grant)
    account.session_epoch += 1
    session.flush()
    seclog.record(session, seclog.ROLE_GRANT, actor_name=by or _cli_user(), address=address, subject=username,
                  detail=f"{role}@{office_id}" if office_id else role)
    return grant


def revoke_role(session: Session, username: str, role: str, office_id: str | None = None, *,
                by: str | None = None, address: str = "") -> None:
    """Take the role away; the account's sessions end."""
    account = _account(session, username)
    grants = [g for g in session.scalars(select(RoleAssignment).where(
        RoleAssignment.account_id == account.id, RoleAssignment.role == role))
        if office_id is None or g.office_id == office_id]
    if not grants:
        raise GrantError(_("Account %(name)s has no role %(role)s at office %(office)s", name=repr(username),
                             role=repr(role), office=office_id) if office_id else
                           _("Account %(name)s has no role %(role)s", name=repr(username), role=repr(role)))
    for grant in grants:
        session.delete(grant)
    account.session_epoch += 1
    session.flush()
    seclog.record(session, seclog.ROLE_REVOKE, actor_name=by or _cli_user(), address=address, subject=username,
                  detail=f"{role}@{office_id}" if office_id else role)
