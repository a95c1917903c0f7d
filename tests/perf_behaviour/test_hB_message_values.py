"""A message whose templates use only the flat variables is written without building the template context.

`notifications.writer` builds the documented template context (`documents.context.message_context`: the
form evaluated over the application's data, its history, offices) only when a matched kind's title or body
names more than the flat variables (`MessageKind.needs_context`). These tests check, on a real submitted
application at each stage of its path, that every shipped kind that skips the context reads exactly as it
did with it (title, body and the SMS parameters), and which templates do need it.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from drafts import HOME_OFFICE, MATTER, PACK, form_data, record_upload, with_materials  # noqa: E402

from formflow.applications import drafts as apps  # noqa: E402
from formflow.calendars.workdays import load_calendar  # noqa: E402
from formflow.db.models import Account, Application  # noqa: E402
from formflow.notifications import registry  # noqa: E402
from formflow.notifications.kinds import FLAT_VARIABLES, MessageKind, When, render  # noqa: E402
from formflow.notifications.writer import _plain, application_values  # noqa: E402

TODAY = date(2026, 3, 2)


@pytest.fixture
def installed(platform_db):
    before = registry.packset() if registry.installed() else None
    registry.install(platform_db.packs)
    yield platform_db
    registry.uninstall()
    if before is not None:
        registry.install(before)


def _submitted(p) -> int:
    with p.sessions.begin() as session:
        account = Account(username="mv-citizen", display_name="王小明", is_demo=False)
        session.add(account)
        session.flush()
        app = apps.start_draft(session, p.packs, applicant=account, pack=PACK, matter=MATTER, office_id=HOME_OFFICE,
                               channel="community")
        record_upload(session, app.id, account.id)
        data = with_materials(apps.pinned_of(session, app), form_data(5), TODAY)
        app = apps.save_draft(session, app.id, data, actor=account, expected_version=app.version, step="materials",
                              today=TODAY)
        apps.submit(session, app.id, actor=account, expected_version=None, token=apps.new_submit_token(), keys=p.keys,
                    today=TODAY, calendar=load_calendar(ROOT / "seeds" / "calendar"))
        return app.id


def _flat(values: dict) -> dict:
    return _plain({k: v for k, v in values.items() if k in FLAT_VARIABLES})


def test_kinds_that_skip_the_context_read_as_with_it(installed):
    p = installed
    app_id = _submitted(p)
    kinds = [k for m in registry.all_messages() for k in m.kinds]
    skipping = [k for k in kinds if not k.needs_context]
    assert skipping, "the shipped kinds use the flat variables: they should skip the context"
    with p.sessions() as session:
        app = session.get(Application, app_id)
        stages = [None, "community_acceptance", "street_review", "public_notice", "approved", "no-such-stage"]
        for stage in stages:
            full = application_values(session, app, stage, TODAY)
            flat = application_values(session, app, stage, TODAY, context=False)
            assert "applicant" in full and "applicant" not in flat  # the context was built, then not
            for kind in skipping:
                assert render(kind.title, flat) == render(kind.title, full), (kind.id, stage)
                assert render(kind.body, flat) == render(kind.body, full), (kind.id, stage)
            assert _flat(flat) == _flat(full), stage


@pytest.mark.parametrize(("body", "needs"), [
    ("{{ name }}，您的{{ matter }}（{{ number }}）现进入{{ stage }}，请于{{ deadline }}前办理。{{ link }}", False),
    ("申请已受理", False),
    ("{{ applicant.name }}，您好", True),
    ("{{ stage.office }}已受理", True),
    ("{% if stage == '公示' %}公示中{% endif %}", True),
    ("{{ stage | upper }}", True),
    ("{{ history }}", True),
    ("{{ unclosed", True),
])
def test_which_templates_need_the_context(body, needs):
    assert MessageKind("k", "标题", body, When()).needs_context is needs
