"""A submission talks to the database in at most six statements, on SQLite and on PostgreSQL.

Round trips are behaviour (each one is a wait on a loaded database), so they are
counted, not timed: every statement the submit's transaction sends is caught by
SQLAlchemy's `before_cursor_execute` on the engine. The draft is made and saved
beforehand like a citizen's (bench/drafts.py), and the submission is checked to
have done its work (active, at its first stage, numbered, in the history, its
household recorded) so that a count of zero could not pass.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from sqlalchemy import event, select

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from drafts import HOME_OFFICE, MATTER, PACK, form_data, record_upload, with_materials  # noqa: E402

from formflow.applications import drafts as apps  # noqa: E402
from formflow.calendars.workdays import load_calendar  # noqa: E402
from formflow.db.models import Account, ApplicationFile, ApplicationStage, Event, HouseholdMember, StageClock  # noqa: E402
from formflow.files.uploads import record_stored_file  # noqa: E402

TODAY = date(2026, 3, 2)
MAX_STATEMENTS = 6
#: What the pack's message kinds add in the same transaction (issue 13): the applicant's message, its SMS in
#: the outbox, the lookups the writers make (the applicant, partner subscriptions); counted apart, bounded too.
NOTIFYING = ("messages", "outbox_messages", "accounts", "sms", "webhook_subscriptions")
MAX_NOTIFYING = 4


def _draft(p, index: int, *, extra_uploads: int = 0) -> tuple[int, int]:
    with p.sessions.begin() as session:
        account = Account(username=f"rt-{index}", display_name="申请人", is_demo=False)
        session.add(account)
        session.flush()
        app = apps.start_draft(session, p.packs, applicant=account, pack=PACK, matter=MATTER,
                               office_id=HOME_OFFICE, channel="community")
        record_upload(session, app.id, account.id)
        for k in range(extra_uploads):  # file row ids then differ from application ids (as in a real database)
            record_stored_file(session, f"{k:064x}", 10, "image/png")
            session.add(ApplicationFile(application_id=app.id, material="scan", sha256=f"{k:064x}",
                                        original_name="other.png", uploaded_by=account.id))
        data = with_materials(apps.pinned_of(session, app), form_data(index), TODAY)
        apps.save_draft(session, app.id, data, actor=account, expected_version=app.version, step="materials",
                        today=TODAY)
        return account.id, app.id


def _submit_counting(p, account_id: int, app_id: int) -> list[str]:
    calendar = load_calendar(ROOT / "seeds" / "calendar")
    sent: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many):
        sent.append(statement)

    with p.sessions.begin() as session:
        account = session.get(Account, account_id)
        session.expunge(account)  # the signed-in account is at hand in a request (loaded by the sign-in)
        event.listen(p.engine, "before_cursor_execute", count)
        try:
            apps.submit(session, app_id, actor=account, expected_version=None, token=apps.new_submit_token(),
                        keys=p.keys, today=TODAY, calendar=calendar)
            session.flush()
        finally:
            event.remove(p.engine, "before_cursor_execute", count)
    return sent


def _touches(statement: str, tables: tuple[str, ...]) -> bool:
    import re

    return any(re.search(rf"\b(INTO|FROM|UPDATE)\s+{t}\b", statement, re.IGNORECASE) for t in tables)


def test_a_submission_sends_at_most_six_statements(platform_db):
    from formflow.notifications import registry

    p = platform_db
    before = registry.packset() if registry.installed() else None
    registry.install(p.packs)  # as in a running server: the pack's message kinds are written too
    try:
        _check_round_trips(p)
    finally:
        registry.uninstall()
        if before is not None:
            registry.install(before)


def _check_round_trips(p) -> None:
    warm = _draft(p, 71, extra_uploads=2)
    _submit_counting(p, *warm)  # caches warm, as in a running server
    account_id, app_id = _draft(p, 72)
    every = _submit_counting(p, account_id, app_id)
    notifying = [s for s in every if _touches(s, NOTIFYING) and not _touches(s, ("applications", "events"))]
    sent = [s for s in every if s not in notifying]
    assert 0 < len(sent) <= MAX_STATEMENTS, f"{len(sent)} statements:\n" + "\n---\n".join(sent)
    assert len(notifying) <= MAX_NOTIFYING, "\n---\n".join(notifying)
    with p.sessions() as session:
        from formflow.db.models import Application

        app = session.get(Application, app_id)
        assert app.status == "active" and app.stages == ["community_acceptance"] and app.number
        assert session.scalar(select(Event.action).where(Event.application_id == app_id,
                                                         Event.action == "submit")) == "submit"
        assert len(session.scalars(select(HouseholdMember).where(HouseholdMember.application_id == app_id)).all()) == 2
        assert session.scalars(select(ApplicationStage.stage)
                               .where(ApplicationStage.application_id == app_id)).all() == ["community_acceptance"]
        assert session.scalar(select(StageClock.id).where(StageClock.application_id == app_id)) is not None
