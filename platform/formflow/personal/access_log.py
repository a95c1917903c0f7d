"""Access log: viewing personal data beyond the masked default is recorded (who, when, which application).

Records are append-only in the database (triggers refuse UPDATE and DELETE, like
`events`). A record is written in its own transaction before the data is shown,
so a page that fails afterwards still leaves the trace.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.db.models import AccessRecord, Account

#: the full ID number of the applicant
FULL_ID_NUMBER = "full_id_number"
#: the applicant's full mobile number (the desk shows it masked until asked)
FULL_MOBILE = "full_mobile"
#: e-licence data shown on the desk: `elicence:<x-source>` (e.g. the household register's source)
ELICENCE = "elicence:{source}"
#: an e-licence fetched from the provider into an application: `elicence_fetch:<x-source>:<purpose>`
ELICENCE_FETCH = "elicence_fetch:{source}:{purpose}"
#: full ID numbers exported in a subsidy roster: `roster_export:<roster id>`
ROSTER_EXPORT = "roster_export:{roster}"


def record_access(session: Session, account: Account | int, application_id: int, what: str) -> AccessRecord:
    """Append one record: `account` saw `what` of application `application_id` (now)."""
    account_id = account if isinstance(account, int) else account.id
    row = AccessRecord(account_id=account_id, application_id=application_id, what=what[:64])
    session.add(row)
    session.flush()
    return row


def record_elicence_fetch(session: Session, account: Account | int, application_id: int, source: str,
                          purpose: str) -> AccessRecord:
    """`account` fetched the e-licence `source` into application `application_id`, for `purpose`."""
    return record_access(session, account, application_id, ELICENCE_FETCH.format(source=source, purpose=purpose))


def record_export(session: Session, account: Account | int, application_ids: list[int] | set[int],
                  what: str) -> int:
    """One record per application whose personal data an export carries; how many were written."""
    for app_id in sorted(set(application_ids)):
        record_access(session, account, app_id, what)
    return len(set(application_ids))


def records_of(session: Session, application_id: int) -> list[AccessRecord]:
    return list(session.scalars(select(AccessRecord).where(AccessRecord.application_id == application_id)
                                .order_by(AccessRecord.id)))
