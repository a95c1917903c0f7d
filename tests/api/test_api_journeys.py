"""The whole citizen journey and the whole reviewer journey of the Meizhou pack, through the API alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api_support import PNG, Api, Client
from sqlalchemy import func, select

from formflow.calendars.workdays import pack_calendars as calendars
from formflow.db.models import Application, Event
from formflow.workflow.timers import tick
from support import drain_outbox

PACK, MATTER = "meizhou-meijiang", "public-rental-housing"
CITIZEN = "mj-citizen-chen"
LOCALITY = "441402001001"  # 金山街道演示社区一: where the demo reviewers have jurisdiction
STEPS = {
    "category": {"applicant_category": "low-income", "support_mode": "physical_allocation"},
    "housing": {"resides_in_urban_area": True, "owns_property": False, "owned_housing_area_total": 0,
                "property_deals_within_5_years": False, "other_housing_benefits": False},
    "assets": {"deposits": 1000, "securities": 0},
}
APPLICANT = {"mobile": "13807530001", "marital_status": "married", "hukou_region": "meijiang",
             "monthly_income": 1200}
SPOUSE = {"name": "李秀梅", "id_number": "441402199007220427", "relation": "spouse", "monthly_income": 800}


def start(api: Api, username: str = CITIZEN) -> tuple[Client, dict[str, Any]]:
    """Sign in, consent, create the draft."""
    c = api.client(username)
    matter = c.get(f"/matters/{PACK}/{MATTER}").json
    assert matter["workflow"]["stages"][0]["id"] == "community_acceptance"
    assert c.get(f"/matters/{PACK}/{MATTER}/consent").json["accepted"] is False
    r = c.post("/drafts", {"pack": PACK, "matter": MATTER, "office_id": LOCALITY})
    assert r.status_code == 403 and r.json["error"]["code"] == "consent_required"
    r = c.post(f"/matters/{PACK}/{MATTER}/consent",
               {"accepted": True, "agreement_version": matter["privacy"]["version"]})
    assert r.status_code == 201 and r.json["accepted"] is True
    localities = c.get(f"/matters/{PACK}/{MATTER}/localities").json["items"]
    assert LOCALITY in {loc["id"] for loc in localities}
    r = c.post("/drafts", {"pack": PACK, "matter": MATTER, "office_id": LOCALITY})
    assert r.status_code == 201, r.json
    return c, r.json


def fill(c: Client, draft: dict[str, Any]) -> dict[str, Any]:
    """Every step through PATCH (the step's validation first shows what is missing), then the uploads."""
    app_id, version = draft["id"], draft["version"]
    form = c.get(f"/applications/{app_id}/form").json
    steps = [s["id"] for s in form["steps"]]
    assert sorted(steps) == ["assets", "category", "housing", "materials", "members"]
    assert steps == ["category", "members", "housing", "assets", "materials"]
    assert form["version"] == draft["versions"]["form"]
    r = c.post(f"/applications/{app_id}/steps/category/validate", {})
    assert r.status_code == 200 and r.json["valid"] is False
    assert "/category/applicant_category" in {e["pointer"] for e in r.json["errors"]}
    r = c.patch(f"/applications/{app_id}/steps/category", {"version": version, "data": STEPS["category"]})
    assert r.status_code == 200, r.json
    version = r.json["version"]
    assert c.post(f"/applications/{app_id}/steps/category/validate", {}).json["valid"] is True
    # the e-licence prefilled the applicant's name and number from the verified identity
    members = r.json["data"]["members"]
    assert members["applicant"]["id_number"] == "441402198803150314"
    members["applicant"].update(APPLICANT)
    check = c.post(f"/applications/{app_id}/steps/members/validate", {"data": members}).json
    assert check["valid"] is False  # married: the spouse must be listed
    assert any(e["pointer"].startswith("/members/co_applicants") for e in check["errors"]), check
    members["co_applicants"] = [SPOUSE]
    assert c.post(f"/applications/{app_id}/steps/members/validate", {"data": members}).json["valid"] is True
    for step, data in (("members", members), ("housing", STEPS["housing"]), ("assets", STEPS["assets"])):
        r = c.patch(f"/applications/{app_id}/steps/{step}", {"version": version, "data": data})
        assert r.status_code == 200, (step, r.json)
        version = r.json["version"]
    checklist = c.get(f"/applications/{app_id}/checklist").json
    required = [i for i in checklist["items"] if i["required"]]
    assert checklist["category"] == "low-income" and required
    assert "marriage_certificate" in {i["kind"] for i in required}
    for item in required:
        if item["provided"]:
            continue
        r = c.post(f"/applications/{app_id}/files", data={
            "field": item["field"], "version": str(version), "file": (_png(), f"{item['kind']}.png"),
        }, content_type="multipart/form-data")
        assert r.status_code == 201, r.json
        assert r.json["file"]["media_type"] == "image/png"
        version = r.json["version"]
    assert all(i["provided"] for i in c.get(f"/applications/{app_id}/checklist").json["items"] if i["required"])
    return c.get(f"/applications/{app_id}").json


def _png():
    import io

    return io.BytesIO(PNG)


def submitted(api: Api, username: str = CITIZEN) -> tuple[Client, dict[str, Any]]:
    c, draft = start(api, username)
    draft = fill(c, draft)
    r = c.post(f"/applications/{draft['id']}/submit", {"version": draft["version"]},
               headers={"Idempotency-Key": f"submit-{draft['id']}"})
    assert r.status_code == 200, r.json
    return c, r.json


def marking_for(table: dict[str, Any], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every criterion `pass`, but rows the schema marks not applicable to this application `na`."""
    rows = ((schema or {}).get("properties") or {}).get("rows", {}).get("properties", {})
    return {"rows": {str(row["no"]): {"criteria": [
        "na" if rows.get(str(row["no"]), {}).get("x-not-applicable") else "pass"] * len(row["criteria"])}
        for row in table["rows"]}}


def act(api: Api, username: str, app_id: int, stage: str, action: str, *, mark: bool) -> dict[str, Any]:
    """As `username`: find it in the queue, mark the stage's table, take the action."""
    r = api.client(username)
    queue = r.get("/review/queue", query_string={"stage": stage}).json
    assert app_id in {item["id"] for item in queue["items"]}, (username, stage, queue)
    if mark:
        view = r.get(f"/review/applications/{app_id}/stages/{stage}/marking").json
        assert view["marking"] is None
        saved = r.put(f"/review/applications/{app_id}/stages/{stage}/marking",
                      {"marking": marking_for(view["table"], view["schema"])})
        assert saved.status_code == 200 and saved.json["outcome"] == "pass", saved.json
    listed = r.get(f"/review/applications/{app_id}/actions").json
    mine = {(a["stage"], a["action"]): a for a in listed["actions"]}
    assert mine[(stage, action)]["allowed"] is True, mine
    done = r.post(f"/review/applications/{app_id}/actions",
                  {"stage": stage, "action": action, "version": listed["version"]},
                  headers={"Idempotency-Key": f"{app_id}-{stage}-{action}"})
    assert done.status_code == 200, done.json
    return done.json


def test_citizen_journey_through_the_api(api_on_each_database):
    api = api_on_each_database
    c, app = submitted(api)
    assert app["status"] == "active" and app["number"]
    assert [s["id"] for s in app["stages"]] == ["community_acceptance"]
    assert [e["action"] for e in app["timeline"]][-1:] == ["submit"]
    mine = c.get("/applications").json["items"]
    assert [a["id"] for a in mine] == [app["id"]] and mine[0]["status"] == "active"
    detail = c.get(f"/applications/{app['id']}").json
    assert detail["withdrawable"] is True and detail["timeline"][0]["action"] == "draft_created"
    # a file of one's own application can be downloaded, with its content type
    sha = detail["files"][0]["sha256"]
    r = c.get(f"/applications/{app['id']}/files/{sha}")
    assert r.status_code == 200 and r.mimetype == "image/png" and r.data == PNG


def test_reviewer_journey_to_approval(api_on_each_database):
    api = api_on_each_database
    citizen, app = submitted(api)
    app_id = app["id"]
    done = act(api, "mj-community", app_id, "community_acceptance", "accept", mark=True)
    assert [n["kind"] for n in done["notices"]] == ["acceptance"]
    act(api, "mj-street", app_id, "street_review", "approve", mark=True)
    with api.p.sessions() as s:
        due = s.get(Application, app_id).deadline
    api.today = due + timedelta(days=1)
    assert tick(api.p.sessions, today=api.today, calendar=calendars(api.p.root)).expired == [app_id]
    act(api, "mj-street", app_id, "street_forward", "forward", mark=False)
    act(api, "mj-civil-affairs", app_id, "civil_affairs_review", "approve", mark=True)
    act(api, "mj-housing", app_id, "housing_review", "approve", mark=True)
    act(api, "mj-centre", app_id, "centre_review", "approve", mark=True)
    act(api, "mj-section", app_id, "section_approval", "approve", mark=True)
    last = act(api, "mj-leader", app_id, "leader_approval", "approve", mark=True)
    assert last["status"] == "closed" and last["result"] == "approved"
    # the citizen sees the outcome, the timeline and the notices, and downloads one as PDF
    detail = citizen.get(f"/applications/{app_id}").json
    assert detail["status"] == "closed" and detail["result"] == "approved"
    assert "mark" not in {e["action"] for e in detail["timeline"]}
    assert detail["notices"] and not detail["notices"][-1]["ready"]  # rendered after commit, by the outbox
    early = citizen.get(detail["notices"][-1]["url"].removeprefix("/api/v1"))
    assert early.status_code == 409 and early.json["error"]["code"] == "notice_pending"
    assert int(early.headers["Retry-After"]) > 0
    drain_outbox(api.app)
    detail = citizen.get(f"/applications/{app_id}").json
    assert all(n["ready"] for n in detail["notices"])
    pdf = citizen.get(detail["notices"][0]["url"].removeprefix("/api/v1"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    # the reviewer's view of the history names who did what
    history = api.client("mj-leader").get(f"/review/applications/{app_id}").json["history"]
    assert any(h["action"] == "mark" for h in history)


def test_stale_action_gets_409_with_the_current_state(api):
    _c, app = submitted(api)
    app_id = app["id"]
    clerk = api.client("mj-community")
    view = clerk.get(f"/review/applications/{app_id}/stages/community_acceptance/marking").json
    clerk.put(f"/review/applications/{app_id}/stages/community_acceptance/marking",
              {"marking": marking_for(view["table"], view["schema"])})
    seen = clerk.get(f"/review/applications/{app_id}/actions").json["version"]
    first = clerk.post(f"/review/applications/{app_id}/actions",
                       {"stage": "community_acceptance", "action": "accept", "version": seen})
    assert first.status_code == 200
    again = api.client("mj-community").post(
        f"/review/applications/{app_id}/actions",
        {"stage": "community_acceptance", "action": "reject", "version": seen, "note": "材料不全"})
    assert again.status_code == 409
    error = again.json["error"]
    assert error["code"] == "stale" and "当前环节" in error["message"]
    assert error["current"]["version"] == first.json["version"]
    assert [s["id"] for s in error["current"]["stages"]] == ["street_review"]


def test_submit_and_action_are_idempotent(api):
    c, draft = start(api)
    draft = fill(c, draft)
    path = f"/applications/{draft['id']}/submit"
    headers = {"Idempotency-Key": "retry-on-a-bad-network"}
    first = c.post(path, {"version": draft["version"]}, headers=headers)
    second = c.post(path, {"version": draft["version"]}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json == second.json and second.headers.get("Idempotent-Replayed") == "true"
    other = c.post(path, {"version": draft["version"] + 1}, headers=headers)
    assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_mismatch"
    with api.p.sessions() as s:
        submits = s.scalar(select(func.count()).select_from(Event).where(
            Event.application_id == draft["id"], Event.action == "submit"))
    assert submits == 1
    # the same for a reviewer's action: one transition, one notice, however often it is retried
    app_id = draft["id"]
    clerk = api.client("mj-community")
    view = clerk.get(f"/review/applications/{app_id}/stages/community_acceptance/marking").json
    clerk.put(f"/review/applications/{app_id}/stages/community_acceptance/marking",
              {"marking": marking_for(view["table"], view["schema"])})
    version = clerk.get(f"/review/applications/{app_id}/actions").json["version"]
    body = {"stage": "community_acceptance", "action": "accept", "version": version}
    key = {"Idempotency-Key": "accept-once"}
    a = clerk.post(f"/review/applications/{app_id}/actions", body, headers=key)
    b = clerk.post(f"/review/applications/{app_id}/actions", body, headers=key)
    assert a.status_code == b.status_code == 200 and a.json == b.json
    with api.p.sessions() as s:
        accepts = s.scalar(select(func.count()).select_from(Event).where(
            Event.application_id == app_id, Event.action == "accept"))
    assert accepts == 1
    # without the key, the retry is refused as stale instead of acting twice
    c2 = clerk.post(f"/review/applications/{app_id}/actions", body)
    assert c2.status_code == 409 and c2.json["error"]["code"] == "stale"


def test_citizen_cannot_reach_another_citizens_application(api):
    _c, draft = start(api)
    other = api.client("mj-citizen-huang")
    for path in (f"/applications/{draft['id']}", f"/applications/{draft['id']}/form",
                 f"/applications/{draft['id']}/checklist"):
        r = other.get(path)
        assert r.status_code == 404 and r.json["error"]["code"] == "not_found", path
    r = other.patch(f"/applications/{draft['id']}/steps/category", {"version": draft["version"], "data": {}})
    assert r.status_code == 404
    r = other.post(f"/applications/{draft['id']}/submit", {"version": draft["version"]})
    assert r.status_code == 404
    assert other.get("/applications").json["items"] == []
    # nor a reviewer's resources
    assert other.get("/review/queue").status_code == 404
    assert other.get(f"/review/applications/{draft['id']}").status_code == 404


def test_reviewer_outside_the_jurisdiction_gets_404(api):
    _c, app = submitted(api)
    for username in ("jx-street-clerk", "mj-housing"):  # another pack; a stage not yet reached is fine,
        r = api.client(username).get(f"/review/applications/{app['id']}/stages/community_acceptance/marking")
        assert r.status_code == 404, username
    r = api.client("jx-street-clerk").get(f"/review/applications/{app['id']}")
    assert r.status_code == 404
