"""The auditor's use cases: read and export the security log, and nothing else.

Only the auditor role may; everyone else, staff and configurators included,
is refused with 403 (separation of duties). Each export is itself written to the security log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from formflow.auth import seclog
from formflow.auth.roles import AUDITOR
from formflow.db.models import Account
from formflow.documents.exports import csv_bytes
from formflow.text import formatting as fmt
from formflow.text.catalogue import _, lazy
from formflow.text.errors import Forbidden

#: what each kind of line means, in the reader's language
KIND_TITLES: dict[str, Any] = {
    seclog.SIGN_IN: lazy("Signed in"),
    seclog.SIGN_IN_FAILED: lazy("Failed sign-in"),
    seclog.LOGOUT: lazy("Signed out"),
    seclog.LOCKOUT: lazy("Sign-ins paused after repeated failures"),
    seclog.SESSION_ENDED: lazy("Session ended by the server"),
    seclog.TOKEN_ISSUE: lazy("API token issued"),
    seclog.TOKEN_REFRESH: lazy("API token refreshed"),
    seclog.TOKEN_REVOKE: lazy("API token revoked"),
    seclog.ROLE_GRANT: lazy("Role granted"),
    seclog.ROLE_REVOKE: lazy("Role revoked"),
    seclog.PASSWORD_CHANGE: lazy("Password changed"),
    seclog.PASSWORD_CHECK_FAILED: lazy("Wrong current password on the password page"),
    seclog.SMS_CODE_SENT: lazy("Sign-in code sent by SMS"),
    seclog.EXPORT: lazy("Export of personal data"),
}


@dataclass(frozen=True)
class LogLine:
    id: int
    at: str
    kind: str
    kind_title: str
    actor: str
    address: str
    subject: str
    detail: str


def is_auditor(account: Account | None) -> bool:
    return account is not None and any(r.role == AUDITOR for r in account.roles)


def _require_auditor(account: Account | None) -> None:
    if not is_auditor(account):
        raise Forbidden(_("Only the security auditor may read the security log"), code="auditor_only")


def _line(row: Any) -> LogLine:
    title = KIND_TITLES.get(row.kind)
    return LogLine(id=row.id, at=fmt.when(row.at), kind=row.kind, kind_title=str(title) if title else row.kind,
                   actor=row.actor or "", address=row.address or "", subject=row.subject or "",
                   detail=row.detail or "")


def security_log(db: Session, actor: Account | None, *, kind: str | None = None, days: int = 30
                 ) -> list[LogLine]:
    """The latest lines of the security log (auditors only)."""
    _require_auditor(actor)
    kind = kind if kind in seclog.KINDS else None
    return [_line(r) for r in seclog.recent(db, kind=kind, days=max(1, min(days, 366)))]


def security_log_csv(db: Session, actor: Account, *, address: str = "", kind: str | None = None,
                     days: int = 30) -> bytes:
    """The same lines as a CSV file (formula cells neutralised); the export is logged in `db`'s transaction."""
    lines = security_log(db, actor, kind=kind, days=days)
    seclog.record(db, seclog.EXPORT, actor=actor, address=address, subject="security_log",
                  detail=f"{len(lines)} lines")
    header = [_("Time"), _("What"), _("Account"), _("Address"), _("Concerning"), _("Detail")]
    return csv_bytes(header, ([ln.at, ln.kind_title, ln.actor, ln.address, ln.subject, ln.detail] for ln in lines))


def kind_choices() -> list[tuple[str, str]]:
    return [(k, str(KIND_TITLES[k])) for k in seclog.KINDS]
