"""Issue 12 — a connection that died earlier in the transaction (SQLAlchemy's `PendingRollbackError`) is the
same clear 503 as the database going away, on the web and on the API, never a 500; nothing is stored.

Found by tests/security/test_pg_faults.py (backends killed under a burst of desk actions): some code went on
with the session after the first error and the next statement raised `PendingRollbackError`. Here the error
is raised on purpose at the commit of a draft save, deterministically, on SQLite.
"""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, func, select
from sqlalchemy.exc import PendingRollbackError

from formflow.applications import drafts as apps
from formflow.db.models import Account, Application, Event

JX_PACK, MATTER, CITIZEN = "jiangxi", "public-rental-housing", "jx-citizen-wangfang"
GONE = "没有保存"


@contextmanager
def invalid_transaction(factory):
    def boom(*_a, **_k):
        raise PendingRollbackError("Can't reconnect until invalid transaction is rolled back.", None)

    event.listen(factory, "before_commit", boom)
    try:
        yield
    finally:
        event.remove(factory, "before_commit", boom)


def _draft(sec) -> int:
    with sec.p.sessions.begin() as s:
        acc = s.scalar(select(Account).where(Account.username == CITIZEN))
        return apps.start_draft(s, sec.p.packs, applicant=acc, pack=JX_PACK, matter=MATTER,
                                office_id=apps.selectable_offices(s, JX_PACK)[0].id, channel="jxzwfw").id


def _state(sec, app_id):
    with sec.p.sessions() as s:
        app = s.get(Application, app_id)
        n = s.scalar(select(func.count()).select_from(Event).where(Event.application_id == app_id))
        return app.version, app.data, n


def _save(sec, c, app_id):
    url = f"/portal/applications/{app_id}/step/members"
    return c.post(url, {"_action": "save", "_version": str(_state(sec, app_id)[0]),
                        "members.applicant.basic.name": "王芳"}, token_from=url)


def test_an_invalid_transaction_on_the_web_is_a_503_in_chinese_and_stores_nothing(sec):
    app_id = _draft(sec)
    before = _state(sec, app_id)
    c = sec.client(CITIZEN)
    with invalid_transaction(sec.app.extensions["formflow"]["sessions"]):
        r = _save(sec, c, app_id)
    assert r.status_code == 503 and GONE in r.get_data(as_text=True)
    assert _state(sec, app_id) == before
    assert _save(sec, c, app_id).status_code == 302  # positive control: the same save, the transaction sound


def test_an_invalid_transaction_on_the_api_is_a_json_503(sec):
    from api_support import Client

    app_id = _draft(sec)
    before = _state(sec, app_id)
    api = Client(sec.app)
    api.sign_in(CITIZEN)
    body = {"version": before[0], "data": {"deposits_and_securities": 100}}
    with invalid_transaction(sec.app.extensions["formflow"]["sessions"]):
        r = api.send("PATCH", f"/applications/{app_id}/steps/assets", body)
    assert r.status_code == 503 and GONE in r.json["error"]["message"]
    assert _state(sec, app_id) == before
    assert api.send("PATCH", f"/applications/{app_id}/steps/assets", body).status_code == 200  # control
