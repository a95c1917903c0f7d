"""The desk header's queue counts (mine, overdue) and the reviewer's own messages link.

Registered on the desk's blueprint; `desk_counts()` is a template function every page may call
(zero counts for someone who reviews nothing).
"""

from __future__ import annotations

from formflow.auth.current import current_account
from formflow.usecases import messages as messages_uc
from formflow.web.context import services, sessions
from formflow.web.desk import bp


@bp.app_context_processor
def _counts() -> dict:
    def desk_counts():
        account = current_account()
        if account is None or not any(r.office_id for r in account.roles):
            return None
        with sessions()() as db:
            return messages_uc.desk_counts(services(), db, account)

    return {"desk_counts": desk_counts}
