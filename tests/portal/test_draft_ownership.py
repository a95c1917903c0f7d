"""Only the applicant (or the assisting window clerk) may change a draft, whatever the caller."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from formflow.applications import drafts as apps
from formflow.db.models import Office


def test_someone_else_cannot_save_or_discard_a_draft(sqlite_platform):
    p = sqlite_platform
    owner, other = p.account("mj-citizen-chen"), p.account("mj-citizen-huang")
    with p.sessions.begin() as s:
        office = s.scalars(select(Office).where(Office.pack == "meizhou-meijiang", Office.selectable)).first()
        draft = apps.start_draft(s, p.packs, applicant=owner, pack="meizhou-meijiang",
                                 matter="public-rental-housing", office_id=office.id, channel="web")
        app_id, version = draft.id, draft.version
    with p.sessions.begin() as s, pytest.raises(apps.NotEditable, match="无权"):
        apps.save_draft(s, app_id, {"category": {}}, actor=other, expected_version=version)
    with p.sessions.begin() as s, pytest.raises(apps.NotEditable, match="无权"):
        apps.discard_draft(s, app_id, actor=other, expected_version=version)
    with p.sessions.begin() as s:
        saved = apps.save_draft(s, app_id, {"category": {}}, actor=owner, expected_version=version)
        assert saved.status == "draft"
