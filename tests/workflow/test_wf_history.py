"""History events are append-only: neither the ORM nor SQL can change or remove them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from wf_support import MZ

from formflow.db.models import Event


def test_events_cannot_be_updated_or_deleted(flow):
    f = flow
    app_id = f.create(MZ, today=date(2026, 3, 2))
    f.act(app_id, "community_acceptance", "reject", "mj-community", today=date(2026, 3, 2), note="原因")
    events = f.events(app_id)
    assert [e.action for e in events] == ["submit", "reject"]
    with pytest.raises(DBAPIError, match="append-only"), f.p.sessions.begin() as s:
        s.get(Event, events[-1].id).note = "篡改"
    with pytest.raises(DBAPIError, match="append-only"), f.p.sessions.begin() as s:
        s.delete(s.get(Event, events[0].id))
    for sql in ("UPDATE events SET note = 'x'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="append-only"), f.p.engine.begin() as conn:
            conn.execute(text(sql))
    assert [(e.action, e.note) for e in f.events(app_id)] == [("submit", None), ("reject", "原因")]
