"""formflow load scenario: citizens filling and submitting, reviewers working their queues.

Run through bench/load/run_load.py (which prepares the database, the synthetic citizens and
gunicorn, and checks the database afterwards). Read from the environment:

FORMFLOW_LOAD_POOL   JSON file: {"citizens": [{username, password, name, id_number, spouse_id}],
                     "reviewers": [{username, password, role, stage}]}
FORMFLOW_LOAD_OUT    folder for the records this process writes:
                     submits-<pid>.jsonl (one line per submit attempt and per confirmed submit),
                     outcomes-<pid>.json (expected business outcomes, counted apart from errors)

Every request has a timeout and every loop a bound. Expected business outcomes (a 409 when
two clerks race for the same application, an empty queue) are marked as successes in
locust's figures and counted apart in outcomes-<pid>.json; anything else unexpected is a
locust failure with the status, error code and message.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import threading
import uuid
from collections import Counter
from pathlib import Path

import gevent
from locust import HttpUser, between, events, task

PREFIX = "/api/v1"
PACK, MATTER = "meizhou-meijiang", "public-rental-housing"
#: 金山街道演示社区一: where the demo reviewers have jurisdiction
LOCALITY = "441402001001"
TIMEOUT = 60  # seconds, every request
QUEUE_PAGES = 5  # at most this many pages per queue walk
OPEN_PER_PAGE = 2  # applications opened per queue page

STEPS = {
    "category": {"applicant_category": "low-income", "support_mode": "physical_allocation"},
    "housing": {"resides_in_urban_area": True, "owns_property": False, "owned_housing_area_total": 0,
                "property_deals_within_5_years": False, "other_housing_benefits": False},
    "assets": {"deposits": 1000, "securities": 0},
}
APPLICANT = {"mobile": "13807530001", "marital_status": "married", "hukou_region": "meijiang",
             "monthly_income": 1200}

_pool = json.loads(Path(os.environ["FORMFLOW_LOAD_POOL"]).read_text(encoding="utf-8"))
CITIZENS: list[dict] = _pool["citizens"]
REVIEWERS: list[dict] = _pool["reviewers"]
_next_citizen = itertools.count()
_next_reviewer = itertools.count()
_lock = threading.Lock()

OUT = Path(os.environ["FORMFLOW_LOAD_OUT"])
OUT.mkdir(parents=True, exist_ok=True)
_submits = (OUT / f"submits-{os.getpid()}.jsonl").open("a", encoding="utf-8")
#: expected business outcomes, "<endpoint> <status> <code>" -> count
OUTCOMES: Counter[str] = Counter()


def record(kind: str, **fields) -> None:
    with _lock:
        _submits.write(json.dumps({"kind": kind, **fields}, ensure_ascii=False) + "\n")
        _submits.flush()


@events.quitting.add_listener
def _dump(environment, **_kw) -> None:
    _submits.flush()
    (OUT / f"outcomes-{os.getpid()}.json").write_text(json.dumps(dict(OUTCOMES), ensure_ascii=False, indent=1),
                                                     encoding="utf-8")


def png(seed: int) -> bytes:
    """A small valid PNG, different for each seed (files are content-addressed)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (seed % 256, (seed // 256) % 256, (seed // 65536) % 256)).save(out, format="PNG")
    return out.getvalue()


class Failed(Exception):
    """A step of the journey failed (already reported to locust); the journey stops."""


def _describe(r) -> str:
    try:
        err = r.json().get("error") or {}
        return f"{r.status_code} {err.get('code', '')}: {str(err.get('message', ''))[:120]}"
    except Exception:  # noqa: BLE001 - not JSON (gunicorn timeout page, connection error)
        return f"{r.status_code} {(r.text or str(r.error or ''))[:120]!r}"


class ApiUser(HttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)
    access: str | None = None

    def think(self) -> None:
        gevent.sleep(random.uniform(0.5, 2.0))

    def call(self, method: str, path: str, name: str, *, expect=(200,), expected_outcomes=(),
             body=None, headers=None, **kw):
        """One request; `expect` statuses succeed; (status, code) in `expected_outcomes` succeed and are counted
        apart; anything else is a locust failure and raises Failed."""
        h = dict(headers or {})
        if self.access:
            h["Authorization"] = f"Bearer {self.access}"
        if body is not None:
            kw["json"] = body
        with self.client.request(method, PREFIX + path, name=name, headers=h, timeout=TIMEOUT,
                                 catch_response=True, **kw) as r:
            if r.status_code in expect:
                r.success()
                return r
            code = ""
            try:
                code = (r.json().get("error") or {}).get("code", "")
            except Exception:  # noqa: BLE001
                pass
            if (r.status_code, code) in expected_outcomes:
                r.success()
                with _lock:
                    OUTCOMES[f"{method} {name} {r.status_code} {code}"] += 1
                return r
            r.failure(_describe(r))
            raise Failed(name)

    def sign_in(self, username: str, password: str) -> None:
        self.access = None
        r = self.call("POST", "/tokens", "/tokens", expect=(201,), body={"username": username, "password": password})
        self.access = r.json()["access_token"]


class CitizenUser(ApiUser):
    """One journey per task, each with a fresh synthetic citizen of the pool."""

    weight = 200

    @task
    def journey(self) -> None:
        i = next(_next_citizen)
        if i >= len(CITIZENS):  # the pool is used up: bounded, count it and idle
            with _lock:
                OUTCOMES["pool exhausted"] += 1
            gevent.sleep(5)
            return
        try:
            self._journey(CITIZENS[i], i)
        except Failed:
            pass

    def _journey(self, who: dict, i: int) -> None:
        self.sign_in(who["username"], who["password"])
        self.think()
        matter = self.call("GET", f"/matters/{PACK}/{MATTER}", "/matters/[pack]/[matter]").json()
        self.call("POST", "/me/identity", "/me/identity",
                  body={"name": who["name"], "id_number": who["id_number"], "consent": True})
        self.think()
        self.call("POST", f"/matters/{PACK}/{MATTER}/consent", "/matters/[pack]/[matter]/consent", expect=(201,),
                  body={"accepted": True, "agreement_version": matter["privacy"]["version"]})
        self.call("GET", f"/matters/{PACK}/{MATTER}/localities", "/matters/[pack]/[matter]/localities")
        draft = self.call("POST", "/drafts", "/drafts", expect=(201,),
                          body={"pack": PACK, "matter": MATTER, "office_id": LOCALITY}).json()
        app_id, version = draft["id"], draft["version"]
        self.think()
        self.call("GET", f"/applications/{app_id}/form", "/applications/[id]/form")
        r = self.call("PATCH", f"/applications/{app_id}/steps/category", "/applications/[id]/steps/[step]",
                      body={"version": version, "data": STEPS["category"]})
        version = r.json()["version"]
        members = r.json()["data"]["members"]
        if members["applicant"].get("id_number") != who["id_number"]:
            # the e-licence prefill did not give the verified identity: report it as a failure of the draft
            self.environment.events.request.fire(
                request_type="CHECK", name="e-licence prefill", response_time=0, response_length=0,
                exception=Exception(f"applicant prefilled {members['applicant'].get('id_number')!r}"),
                context={})
            return
        members["applicant"].update(APPLICANT)
        members["co_applicants"] = [{"name": who["spouse_name"], "id_number": who["spouse_id"],
                                     "relation": "spouse", "monthly_income": 800}]
        self.think()
        self.call("POST", f"/applications/{app_id}/steps/members/validate", "/applications/[id]/steps/[step]/validate",
                  body={"data": members})
        for step, data in (("members", members), ("housing", STEPS["housing"]), ("assets", STEPS["assets"])):
            self.think()
            r = self.call("PATCH", f"/applications/{app_id}/steps/{step}", "/applications/[id]/steps/[step]",
                          body={"version": version, "data": data})
            version = r.json()["version"]
        checklist = self.call("GET", f"/applications/{app_id}/checklist", "/applications/[id]/checklist").json()
        needed = [item for item in checklist["items"] if item["required"] and not item["provided"]]
        for n, item in enumerate(needed[:20]):  # bounded; the Meizhou low-income married checklist asks for 2
            self.think()
            r = self.call("POST", f"/applications/{app_id}/files", "/applications/[id]/files", expect=(201,),
                          data={"field": item["field"], "version": str(version)},
                          files={"file": (f"{item['kind']}.png", png(i * 32 + n), "image/png")})
            version = r.json()["version"]
        self.think()
        key = f"load-{uuid.uuid4()}"
        record("attempt", app_id=app_id, key=key, username=who["username"])
        first = self.call("POST", f"/applications/{app_id}/submit", "/applications/[id]/submit",
                          body={"version": version}, headers={"Idempotency-Key": key})
        record("submitted", app_id=app_id, key=key, username=who["username"], number=first.json().get("number"))
        # the same submit again with the same key (a retry after a lost response): one application, replayed
        with self.client.request("POST", f"{PREFIX}/applications/{app_id}/submit",
                                 name="/applications/[id]/submit (retry)",
                                 json={"version": version}, timeout=TIMEOUT, catch_response=True,
                                 headers={"Idempotency-Key": key, "Authorization": f"Bearer {self.access}"}) as again:
            if again.status_code != 200:
                again.failure(_describe(again))
            elif again.headers.get("Idempotent-Replayed") != "true" or again.json().get("id") != app_id \
                    or again.json().get("number") != first.json().get("number"):
                again.failure(f"retry not replayed: header={again.headers.get('Idempotent-Replayed')!r} "
                              f"id={again.json().get('id')} number={again.json().get('number')}")
            else:
                again.success()
        self.think()
        mine = self.call("GET", "/applications", "/applications").json()["items"]
        if [a["id"] for a in mine if a.get("status") != "draft"] != [app_id]:
            self.environment.events.request.fire(
                request_type="CHECK", name="my applications after submit", response_time=0, response_length=0,
                exception=Exception(f"expected one submitted application {app_id}, got "
                                    f"{[(a['id'], a.get('status')) for a in mine]}"), context={})
        self.call("GET", f"/applications/{app_id}", "/applications/[id]")


def _marking(table: dict) -> dict:
    return {"rows": {str(row["no"]): {"criteria": ["pass"] * len(row["criteria"])} for row in table["rows"]}}


class ReviewerUser(ApiUser):
    """Walks its queue (following next_cursor), opens applications; the community clerks accept."""

    weight = 50

    def on_start(self) -> None:
        self.me = REVIEWERS[next(_next_reviewer) % len(REVIEWERS)]
        self.signed_in = False

    @task
    def work(self) -> None:
        try:
            if not self.signed_in:
                self.sign_in(self.me["username"], self.me["password"])
                self.signed_in = True
            self._work()
        except Failed:
            pass

    def _work(self) -> None:
        params: dict = {"stage": self.me["stage"]} if self.me.get("stage") else {}
        after = None
        for _page in range(QUEUE_PAGES):
            q = dict(params, **({"after": after} if after else {}))
            page = self.call("GET", "/review/queue", "/review/queue", params=q).json()
            items = page["items"]
            if not items:
                with _lock:
                    OUTCOMES[f"empty queue {self.me['username']}"] += 1
                return
            for item in random.sample(items, min(OPEN_PER_PAGE, len(items))):
                self.think()
                self.call("GET", f"/review/applications/{item['id']}", "/review/applications/[id]",
                          expected_outcomes={(404, "not_found")})
            if self.me.get("accepts"):
                self.think()
                self._accept(random.choice(items))
            after = page.get("next_cursor")
            if not after:
                return
            self.think()

    def _accept(self, item: dict) -> None:
        app_id, stage = item["id"], "community_acceptance"
        # another clerk may have accepted it meanwhile: 404/409 there are business outcomes, not errors
        race = {(409, "stale"), (409, "not_available"), (404, "not_found"), (409, "conflict")}
        path = f"/review/applications/{app_id}/stages/{stage}/marking"
        view = self.call("GET", path, "/review/applications/[id]/stages/[stage]/marking", expected_outcomes=race)
        if view.status_code != 200:
            return
        saved = self.call("PUT", path, "/review/applications/[id]/stages/[stage]/marking",
                          body={"marking": _marking(view.json()["table"])}, expected_outcomes=race)
        if saved.status_code != 200:
            return
        listed = self.call("GET", f"/review/applications/{app_id}/actions", "/review/applications/[id]/actions",
                           expected_outcomes=race)
        if listed.status_code != 200:
            return
        mine = {(a["stage"], a["action"]): a for a in listed.json()["actions"]}
        if not (mine.get((stage, "accept")) or {}).get("allowed"):
            with _lock:
                OUTCOMES["accept not allowed any more (taken by another clerk)"] += 1
            return
        self.think()
        self.call("POST", f"/review/applications/{app_id}/actions", "/review/applications/[id]/actions",
                  body={"stage": stage, "action": "accept", "version": listed.json()["version"]},
                  headers={"Idempotency-Key": f"load-accept-{uuid.uuid4()}"}, expected_outcomes=race)
