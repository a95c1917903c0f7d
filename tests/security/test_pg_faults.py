"""Issue 12 — HTTP-level concurrency and connection kills on PostgreSQL.

(a) Bursts of concurrent requests through the views (one thread and one signed-in Flask test client per
    person): 8 reviewers acting on one application, 8 saves of one draft, 8 saves of 8 drafts. Each request is
    answered 302 (done) or 409 with the Chinese message — never a 500 — and the data is consistent afterwards
    (one move, one event per write).
(b) Connection kills: while a burst of draft saves runs, an admin connection kills the app's PostgreSQL
    backends (`pg_terminate_backend`) again and again. Every request answers done or a clear 503 with the
    Chinese message; nothing is half-written (each draft's version moved exactly as often as it got a history
    event); and once the kills stop the next saves succeed (the pool recovers: `pool_pre_ping`).

Each has its positive control: the same burst without a race or without kills, every request done.
"""

from __future__ import annotations

import threading
import time

import pytest
from sec_support import MZ, TODAY, Sec, create, events
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from formflow.applications import drafts as apps
from formflow.db import make_engine
from formflow.db.models import Account, Application, Event, RoleAssignment
from support import WebClient, demo_password, make_web_app

pytestmark = pytest.mark.postgres

JX_PACK, MATTER = "jiangxi", "public-rental-housing"
CITIZEN = "jx-citizen-wangfang"
BURST = 8
GONE = "没有保存"  # "nothing you just did was saved": the 503 page and JSON message
STALE_DRAFT = "其他页面或设备"
STALE_ACTION = "该申请已被他人处理"


@pytest.fixture
def pg(postgres_platform) -> Sec:
    p = postgres_platform
    assert p.dialect == "postgresql"
    return Sec(p, WebClient(make_web_app(p)))


def _retry(fn, attempts: int = 20):
    """A test-side read that may meet a killed connection: try again (the pool pings before reuse)."""
    for i in range(attempts):
        try:
            return fn()
        except DBAPIError:
            if i == attempts - 1:
                raise
            time.sleep(0.05)
    return None


def _drafts(sec, n: int) -> list[tuple[str, int]]:
    """(username, draft id) of `n` citizens, one draft each (the demo citizen and copies of it)."""
    out = []
    with sec.p.sessions.begin() as s:
        model = s.scalar(select(Account).where(Account.username == CITIZEN))
        office = apps.selectable_offices(s, JX_PACK)[0].id
        for i in range(n):
            acc = model
            if i:
                acc = Account(username=f"{CITIZEN}-{i}", display_name=f"{model.display_name}{i}",
                              password_hash=model.password_hash, is_demo=True)
                acc.roles.append(RoleAssignment(role="citizen"))
                s.add(acc)
                s.flush()
            draft = apps.start_draft(s, sec.p.packs, applicant=acc, pack=JX_PACK, matter=MATTER, office_id=office,
                                     channel="jxzwfw")
            out.append((acc.username, draft.id))
    return out


def _state(sec, app_id: int) -> tuple[int, int, str | None]:
    """(version, number of history events, the applicant's name in the draft)."""
    def read():
        with sec.p.sessions() as s:
            app = s.get(Application, app_id)
            n = s.scalar(select(func.count()).select_from(Event).where(Event.application_id == app_id))
            name = ((app.data or {}).get("members") or {}).get("applicant", {}).get("basic", {}).get("name")
            return app.version, int(n or 0), name
    return _retry(read)


def _step(app_id: int) -> str:
    return f"/portal/applications/{app_id}/step/members"


class Person:
    """One signed-in browser: its own test client and CSRF token, ready before the burst starts."""

    def __init__(self, sec, username: str, token_page: str) -> None:
        self.web = sec.client()
        r = self.web.login(username, demo_password(CITIZEN) if username.startswith(CITIZEN) else None)
        assert r.status_code == 302, r.get_data(as_text=True)[:300]
        self.token = self.web.csrf(token_page)

    def post(self, path: str, data: dict[str, str]):
        return self.web.client.post(path, data={**data, "csrf_token": self.token})


def _burst(calls) -> list:
    """Run the calls at once (a barrier releases them together); their responses, in order."""
    barrier = threading.Barrier(len(calls))
    out: list = [None] * len(calls)

    def run(i, call):
        barrier.wait(30)
        try:
            out[i] = call()
        except BaseException as exc:  # noqa: BLE001 - an exception escaping the view is a failure to report
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def _answer(r) -> tuple[int, str]:
    if isinstance(r, BaseException):
        import traceback

        raise AssertionError("".join(traceback.format_exception(r))[-4000:])
    return r.status_code, r.get_data(as_text=True)


# --------------------------------------------------------------------------- (a) bursts

def _ready_to_accept(sec) -> int:
    from desk_support import marking_form, table_of

    app_id = create(sec.p, MZ, today=TODAY)
    c = sec.client("mj-community")
    stage = "community_acceptance"
    r = c.post(f"/desk/applications/{app_id}/stages/{stage}/marking", marking_form(table_of(sec.p, app_id, stage)),
               token_from=f"/desk/applications/{app_id}")
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return app_id


def test_eight_reviewers_act_at_once_one_moves_it_the_others_get_409(pg):
    app_id = _ready_to_accept(pg)
    version = _state(pg, app_id)[0]
    people = [Person(pg, "mj-community", f"/desk/applications/{app_id}") for _ in range(BURST)]
    data = {"stage": "community_acceptance", "action": "accept", "expected_version": str(version)}
    answers = [_answer(r) for r in _burst([lambda p=p: p.post(f"/desk/applications/{app_id}/act", data)
                                           for p in people])]
    statuses = sorted(s for s, _ in answers)
    assert statuses == [302] + [409] * (BURST - 1), statuses
    assert all(STALE_ACTION in body for s, body in answers if s == 409)
    acts = [e.action for e in events(pg.p, app_id)]
    assert acts.count("accept") == 1, acts
    with pg.p.sessions() as s:
        app = s.get(Application, app_id)
        assert app.stages == ["street_review"] and app.version == version + 1


def test_eight_saves_of_one_draft_at_once_one_wins_the_others_get_409(pg):
    ((_who, app_id),) = _drafts(pg, 1)
    v0, e0, _ = _state(pg, app_id)
    people = [Person(pg, CITIZEN, _step(app_id)) for _ in range(BURST)]
    answers = [_answer(r) for r in _burst([
        lambda p=p, i=i: p.post(_step(app_id), {"_action": "save", "_version": str(v0),
                                                "members.applicant.basic.name": f"王芳{i}"})
        for i, p in enumerate(people)])]
    statuses = [s for s, _ in answers]
    assert sorted(statuses) == [302] + [409] * (BURST - 1), statuses
    assert all(STALE_DRAFT in body for s, body in answers if s == 409)
    winner = statuses.index(302)
    assert _state(pg, app_id) == (v0 + 1, e0 + 1, f"王芳{winner}")  # the winner's save, once, with its event


def test_eight_saves_of_eight_drafts_at_once_all_succeed(pg):
    """Positive control of the two bursts above: without a race every concurrent request is done."""
    drafts = _drafts(pg, BURST)
    ids = [a for _w, a in drafts]
    before = {a: _state(pg, a) for a in ids}
    people = [Person(pg, who, _step(a)) for who, a in drafts]
    answers = [_answer(r) for r in _burst([
        lambda p=p, a=a: p.post(_step(a), {"_action": "save", "_version": str(before[a][0]),
                                           "members.applicant.basic.name": f"甲{a}"})
        for p, a in zip(people, ids, strict=True)])]
    assert [s for s, _ in answers] == [302] * BURST, answers
    for a in ids:
        assert _state(pg, a) == (before[a][0] + 1, before[a][1] + 1, f"甲{a}")


# --------------------------------------------------------------------------- (b) connection kills

class Killer:
    """Kills every backend of the test database but its own, every `pause` seconds, until stopped."""

    def __init__(self, url: str, admin_url: str, pause: float = 0.15) -> None:
        self.database = url.rsplit("/", 1)[1]
        self.pause = pause
        self.admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.killed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        with self.admin.connect() as conn:
            while not self._stop.is_set():
                killed = conn.execute(text(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": self.database}).scalar()
                self.killed += int(killed or 0)
                time.sleep(self.pause)

    def __enter__(self) -> Killer:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(30)
        self.admin.dispose()


def _saves_under(pg, drafts: list[tuple[str, int]], rounds: int,
                 killer_url: str | None) -> tuple[dict[int, list], int]:
    """Each draft saved `rounds` times by its own citizen, all drafts at once (kills running if asked).

    Returns each draft's answers [(status, body, location, name)] and how many backends were killed.
    """
    people = {a: Person(pg, who, _step(a)) for who, a in drafts}
    ids = [a for _w, a in drafts]
    answers: dict[int, list] = {a: [] for a in ids}

    def saver(a: int):
        def run():
            for k in range(rounds):
                version = _state(pg, a)[0]
                name = f"乙{a}-{k}"
                r = people[a].post(_step(a), {"_action": "save", "_version": str(version),
                                              "members.applicant.basic.name": name})
                answers[a].append((r.status_code, r.get_data(as_text=True), r.headers.get("Location", ""), name))
            return True
        return run

    if killer_url is None:
        results = _burst([saver(a) for a in ids])
        killed = 0
    else:
        with Killer(pg.p.url, killer_url) as killer:
            results = _burst([saver(a) for a in ids])
        killed = killer.killed
    for r in results:
        assert r is True, repr(r)  # no exception escaped a view
    return answers, killed


def _assert_clean(pg, ids, before, answers) -> int:
    """Every answer done or a clear 503; each draft's writes whole. How many 503s there were."""
    gone = 0
    for a in ids:
        for status, body, location, _name in answers[a]:
            assert status in (302, 503), (status, body[:300])
            if status == 302:
                assert "/auth/login" not in location, location  # done, not sent to sign in
            else:
                gone += 1
                # the page, or its bare fallback when the page itself cannot be drawn without the database
                assert GONE in body and ('lang="zh-CN"' in body or "lang=zh-CN" in body), body[:300]
        version, n_events, name = _state(pg, a)
        done = sum(1 for status, *_ in answers[a] if status == 302)
        # nothing half-written: the version moved exactly as often as a history event was written;
        # every save answered done is in; a save answered 503 may have committed just before its connection died
        assert version - before[a][0] == n_events - before[a][1], (a, before[a], (version, n_events))
        assert done <= version - before[a][0] <= len(answers[a]), (a, done, version, before[a])
        assert name in {n for *_x, n in answers[a]} if version > before[a][0] else name == before[a][2], name
    return gone


def test_killed_connections_during_a_burst_answer_503_and_leave_nothing_half_written(pg, postgres_server):
    drafts = _drafts(pg, BURST)
    ids = [a for _w, a in drafts]
    before = {a: _state(pg, a) for a in ids}
    gone, done, killed, total = 0, 0, 0, {a: [] for a in ids}
    for _round in range(4):  # until some requests met a killed connection and some got through
        answers, n = _saves_under(pg, drafts, rounds=6, killer_url=postgres_server)
        killed += n
        for a in ids:
            total[a].extend(answers[a])
        gone = _assert_clean(pg, ids, before, total)
        done = sum(1 for a in ids for status, *_ in total[a] if status == 302)
        if gone and done:
            break
    assert killed > 0 and gone > 0 and done > 0, (killed, gone, done)
    # the pool recovers: with the kills over, the next save of every draft is done
    after = {a: _state(pg, a) for a in ids}
    answers, _ = _saves_under(pg, drafts, rounds=1, killer_url=None)
    for a in ids:
        assert [s for s, *_ in answers[a]] == [302], answers[a][0][:2]
        assert _state(pg, a) == (after[a][0] + 1, after[a][1] + 1, answers[a][0][3])


def test_killed_connections_under_an_api_burst_answer_a_json_503(pg, postgres_server):
    """The same on the JSON API: each PATCH of a step answers 200 or 503 with the Chinese message in its
    error object; every draft's version moved exactly as often as it got a history event; then all succeed."""
    from api_support import Client

    drafts = _drafts(pg, BURST)
    ids = [a for _w, a in drafts]
    before = {a: _state(pg, a) for a in ids}
    clients = {}
    for who, a in drafts:
        clients[a] = Client(pg.app)
        clients[a].sign_in(who, demo_password(CITIZEN))
    answers: dict[int, list] = {a: [] for a in ids}

    def saver(a: int, rounds: int):
        def run():
            for k in range(rounds):
                body = {"version": _state(pg, a)[0], "data": {"deposits_and_securities": 100 + k}}
                r = clients[a].send("PATCH", f"/applications/{a}/steps/assets", body)
                answers[a].append((r.status_code, r.get_json(silent=True) or {}))
            return True
        return run

    with Killer(pg.p.url, postgres_server) as killer:
        results = _burst([saver(a, 6) for a in ids])
    assert all(r is True for r in results), results
    statuses = [status for a in ids for status, _ in answers[a]]
    assert set(statuses) <= {200, 503}, statuses
    assert killer.killed > 0 and 503 in statuses, (killer.killed, statuses)
    for a in ids:
        for status, body in answers[a]:
            if status == 503:
                assert GONE in body["error"]["message"], body
        version, n_events, _name = _state(pg, a)
        assert version - before[a][0] == n_events - before[a][1], (a, before[a], version, n_events)
        assert sum(1 for status, _ in answers[a] if status == 200) <= version - before[a][0]
    # the pool recovers: every client's next PATCH is done
    answers = {a: [] for a in ids}
    results = _burst([saver(a, 1) for a in ids])
    assert all(r is True for r in results) and all(answers[a][0][0] == 200 for a in ids), answers


def test_killed_connections_under_a_burst_of_desk_actions_move_each_application_whole_or_not(pg, postgres_server):
    """8 reviewers accept 8 applications at once while backends are killed: each answer done or a clear 503;
    each application either moved with its one `accept` event or stayed as it was; then the rest are accepted."""
    ids = [_ready_to_accept(pg) for _ in range(BURST)]
    before = {a: _state(pg, a) for a in ids}
    people = {a: Person(pg, "mj-community", f"/desk/applications/{a}") for a in ids}

    def accept(a: int):
        data = {"stage": "community_acceptance", "action": "accept", "expected_version": str(before[a][0])}
        return lambda: people[a].post(f"/desk/applications/{a}/act", data)

    def moved(a: int):
        def read():
            with pg.p.sessions() as s:
                app = s.get(Application, a)
                n = s.scalar(select(func.count()).select_from(Event).where(Event.application_id == a,
                                                                           Event.action == "accept"))
                return list(app.stages or []), app.version, int(n or 0)
        return _retry(read)

    pending, gone, done = list(ids), 0, 0
    for _round in range(6):  # until some accepts met a killed connection and some got through
        with Killer(pg.p.url, postgres_server, pause=0.4) as killer:
            answers = dict(zip(pending, (_answer(r) for r in _burst([accept(a) for a in pending])), strict=True))
        assert killer.killed > 0
        for a, (status, body) in answers.items():
            assert status in (302, 503), (status, body[:300])
            if status == 503:
                gone += 1
                assert GONE in body, body[:300]
            stages, version, accepts = moved(a)
            if accepts:  # moved, with its one event
                assert (stages, version, accepts) == (["street_review"], before[a][0] + 1, 1), (a, stages, version)
            else:  # not at all
                assert status == 503 and (stages, version) == (["community_acceptance"], before[a][0]), (a, stages)
        done = sum(1 for a in ids if moved(a)[2])
        pending = [a for a in ids if not moved(a)[2]]
        if gone and done or not pending:
            break
    assert gone > 0 and done > 0, (gone, done)
    # the pool recovers: every application not yet accepted is accepted now
    for a in pending:
        status, body = _answer(accept(a)())
        assert status == 302, (status, body[:300])
        assert moved(a) == (["street_review"], before[a][0] + 1, 1)


def test_the_same_burst_without_kills_is_all_done(pg):
    """Positive control: the identical burst with no connection killed — every save done, every write whole."""
    drafts = _drafts(pg, BURST)
    ids = [a for _w, a in drafts]
    before = {a: _state(pg, a) for a in ids}
    answers, killed = _saves_under(pg, drafts, rounds=4, killer_url=None)
    assert killed == 0
    assert _assert_clean(pg, ids, before, answers) == 0
    for a in ids:
        assert [s for s, *_ in answers[a]] == [302] * 4
        assert _state(pg, a) == (before[a][0] + 4, before[a][1] + 4, f"乙{a}-3")


def test_the_engine_pings_connections_before_use():
    """What the recovery rests on: PostgreSQL engines check a pooled connection before handing it out."""
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert engine.pool._pre_ping is True
    engine.dispose()
