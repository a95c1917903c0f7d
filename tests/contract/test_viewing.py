"""Viewing contract: every channel that offers a view shows the same thing (defects 4b, 5, 6, 7, 8).

ONE table of scenarios, each run on every channel that offers its use case —
the portal, the service-hall window (the clerk who assisted), the desk, the
citizen API and the reviewer API — and each channel must give the outcome the
scenario expects: the same titles and local times, the same masking, the same
access records, the same error code and message, the same file headers.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from contract.viewing_channels import CALENDAR, JX, MZ, PNG, _local, create, open_channel
from formflow.db.models import Account, Application, Event, Notice
from formflow.personal.access_log import records_of
from formflow.reviews.tables import record_marking
from formflow.text.formatting import local_time
from formflow.workflow import engine
from formflow.workflow.timers import tick
from support import drain_outbox

TODAY = date(2026, 3, 2)
NOT_FOUND = "申请不存在或不在您的办理范围内"
FILE_NAME = "身份证.png"
OTHER_BENEFITS = "申请人及家庭成员是否参加过房改房、集资建房或享受过其他住房保障、住房优惠政策"
#: The same action id, two stages, two meanings.
BY_STAGE = {"street_review": "初审通过，张榜公示", "civil_affairs_review": "复核通过，送区房管局"}


def _png_signature() -> str:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 4), (0, 0, 0)).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


SIGNATURE = _png_signature()


# --------------------------------------------------------------------------- the world each scenario needs


@dataclass
class World:
    p: Any
    app: Any
    app_id: int
    pack: str = MZ
    extra: dict[str, Any] | None = None


def _account(s, username: str) -> Account:
    return s.scalar(select(Account).where(Account.username == username))


def _assisted(p, app_id: int) -> None:
    with p.sessions.begin() as s:
        s.get(Application, app_id).assisted_by_id = _account(s, "mj-window").id


def _act(p, app_id: int, username: str, stage: str, action: str, today: date) -> None:
    with p.sessions.begin() as s:
        app = s.get(Application, app_id)
        actor = _account(s, username)
        from formflow.packs.versions import load_pinned

        pinned = load_pinned(s, app.versions)
        table_id = pinned.workflow["stages"][stage].get("table")
        if table_id:
            table = pinned.table(table_id)
            marking = {"rows": {str(r["no"]): {"criteria": ["pass"] * len(r["criteria"])} for r in table["rows"]}}
            record_marking(s, app, stage, table_id, marking, actor, pinned)
        engine.perform(s, app_id, stage=stage, action=action, actor=actor, note=None,
                       expected_version=s.get(Application, app_id).version, calendar=CALENDAR, today=today,
                       storage=p.storage, renderers=p.root / "renderers", keys=p.keys)


@contextmanager
def _events_at(when: datetime):
    """Events written inside are stamped `when` (an instant in UTC), as if the step happened then."""
    def stamp(_mapper, _connection, target: Event) -> None:
        target.at = when

    sa_event.listen(Event, "before_insert", stamp)
    try:
        yield
    finally:
        sa_event.remove(Event, "before_insert", stamp)


#: One instant per step, each on its own Beijing day and minute; the second is 00:30 in Beijing the day AFTER
#: its UTC date, so a channel that shows UTC (or the wrong event's time) cannot match.
STEP_AT = [datetime(2026, 3, 2, 1, 5, tzinfo=UTC), datetime(2026, 3, 2, 2, 40, tzinfo=UTC),
           datetime(2026, 3, 3, 16, 30, tzinfo=UTC), None, datetime(2026, 3, 26, 7, 45, tzinfo=UTC),
           datetime(2026, 3, 27, 9, 12, tzinfo=UTC)]


def through_district_review(p, app) -> World:
    """梅江: accepted, 初审通过 and publicly noticed, forwarded, 区民政局 复核通过 → now at 区房管局."""
    with _events_at(STEP_AT[0]):
        app_id = create(p, MZ, today=TODAY, category="low-income", with_file=True)
    _assisted(p, app_id)
    with _events_at(STEP_AT[1]):
        _act(p, app_id, "mj-community", "community_acceptance", "accept", TODAY)
    with _events_at(STEP_AT[2]):
        _act(p, app_id, "mj-street", "street_review", "approve", date(2026, 3, 3))
    with p.sessions() as s:
        due = s.get(Application, app_id).deadline
    expired_on = date.fromordinal(due.toordinal() + 1)
    with _events_at(datetime.combine(expired_on, time(18, 1), tzinfo=UTC)):  # 02:01 the next day in Beijing
        assert tick(p.sessions, today=expired_on, calendar=CALENDAR).expired == [app_id]
    with _events_at(STEP_AT[4]):
        _act(p, app_id, "mj-street", "street_forward", "forward", date(2026, 3, 26))
    with _events_at(STEP_AT[5]):
        _act(p, app_id, "mj-civil-affairs", "civil_affairs_review", "approve", date(2026, 3, 27))
    return World(p, app, app_id)


def new_employee(p, app) -> World:
    """梅江 新就业无房职工 with enum answers and a 否: the pre-check must read them as titles."""
    data = {"category": {"applicant_category": "new-employee", "support_mode": "physical_allocation"},
            "members": {"applicant": {"name": "陈志强", "id_number": "441402198803150314", "mobile": "13807530001",
                                      "marital_status": "unmarried", "hukou_region": "meijiang",
                                      "monthly_income": 1500,
                                      "education": {"level": "bachelor", "graduation_date": "2025-07-01"},
                                      "employment": {"employer": "梅州示例公司", "employer_in_urban_area": True,
                                                     "has_labour_contract": False}}},
            "housing": {"owns_property": False, "other_housing_benefits": False}}
    return World(p, app, create(p, MZ, today=TODAY, category="new-employee", data=data))


def jiangxi_with_elicences(p, app) -> World:
    """江西: e-licence data (身份证, 户口簿) and a drawn signature in the data."""
    data = {"category": {"applicant_category": "urban-low-income"},
            "members": {"applicant": {"basic": {"name": "李强", "id_number": "36010219950410004X",
                                                "mobile": "13807910002", "hukou_address": "南昌市东湖区示例路1号"}}},
            "assets": {"authorization": {"signing_method": "handwritten", "signature": SIGNATURE}},
            "materials": {"id_card": {"name": "李强", "id_number": "36010219950410004X"},
                          "household_register": {"household_head": "李强"}}}
    return World(p, app, create(p, JX, today=TODAY, category="urban-low-income", data=data), pack=JX)


def with_notice(p, app) -> World:
    """梅江: accepted (受理通知书 issued), assisted at the window."""
    app_id = create(p, MZ, today=TODAY, category="low-income", with_file=True)
    _assisted(p, app_id)
    _act(p, app_id, "mj-community", "community_acceptance", "accept", TODAY)
    drain_outbox(p)  # the notice's PDF is rendered after commit
    return World(p, app, app_id)


def low_income(p, app) -> World:
    """梅江 低收入 (no 低保证 on its checklist), one file uploaded."""
    return World(p, app, create(p, MZ, today=TODAY, category="low-income", with_file=True))


def nothing(p, app) -> World:
    return World(p, app, 987654)


# --------------------------------------------------------------------------- what each channel must show


def _events(w: World, *, hidden: set[str]) -> list[Event]:
    with w.p.sessions() as s:
        return [e for e in s.scalars(select(Event).where(Event.application_id == w.app_id).order_by(Event.id))
                if e.action not in hidden]


def expect_citizen_timeline(w: World) -> list[tuple[str, str, str]]:
    titles = {"submit": "提交申请", "accept": "受理", "expire": "期满自动流转", "forward": "报送梅江区民政局"}
    roles = _role_titles(w) | {"citizen": "申请人"}
    out = []
    events = _events(w, hidden={"mark", "draft_saved"})
    # the scenario's point: an application that has passed several stages, each step at its own local time
    assert len({e.from_stage for e in events if e.from_stage}) >= 3, [e.action for e in events]
    assert len({local_time(e.at) for e in events}) == len(events) == 6, [local_time(e.at) for e in events]
    for e in events:
        title = BY_STAGE.get(e.from_stage) if e.action == "approve" else titles[e.action]
        who = "系统" if e.actor_id is None else roles.get(e.actor_role, e.actor_role)
        out.append((title, local_time(e.at), who))
    return out


def _role_titles(w: World) -> dict[str, str]:
    from formflow.packs.versions import load_pinned

    with w.p.sessions() as s:
        pinned = load_pinned(s, s.get(Application, w.app_id).versions)
    return {k: v["title"] for k, v in (pinned.workflow.get("roles") or {}).items()}


def expect_staff_history(w: World) -> list[tuple[str, str, str]]:
    roles = _role_titles(w) | {"citizen": "申请人"}
    with w.p.sessions() as s:
        names = {a.id: a.display_name for a in s.scalars(select(Account))}
    titles = {"submit": "提交申请", "accept": "受理", "expire": "期满自动流转", "forward": "报送梅江区民政局"}
    out = []
    for e in _events(w, hidden={"draft_created", "draft_saved"}):
        if e.action == "mark":
            title = "填写审查表（结论：通过）"
        elif e.action == "approve":
            title = BY_STAGE[e.from_stage]
        else:
            title = titles[e.action]
        who = "系统" if e.actor_id is None else f"{names[e.actor_id]}（{roles.get(e.actor_role, '工作人员')}）"
        out.append((title, local_time(e.at), who))
    return out


def look_citizen_timeline(ch, w: World):
    return ch.timeline(w.app_id)


def look_staff_history(ch, w: World):
    return ch.history(w.app_id)


def look_progress(ch, w: World):
    return ch.progress(w.app_id)


def expect_progress(w: World) -> dict[str, str]:
    done = ["community_acceptance", "street_review", "public_notice", "street_forward", "civil_affairs_review"]
    return {**{s: "done" for s in done}, "housing_review": "current", "centre_review": "todo",
            "section_approval": "todo", "leader_approval": "todo"}


def look_listed_time(ch, w: World) -> str:
    listed = ch.listed(w.app_id)
    if isinstance(listed, dict):  # the API: an ISO instant with +08:00
        return _local(listed["submitted_at"])
    return listed.split("提交于 ", 1)[1][:16]


def expect_listed_time(w: World) -> str:
    with w.p.sessions() as s:
        return local_time(s.get(Application, w.app_id).submitted_at)


def look_masking(ch, w: World):
    seen = ch.masking(w.app_id)
    with w.p.sessions() as s:
        recorded = sorted(r.what for r in records_of(s, w.app_id))
    return {**seen, "recorded": recorded}


def expect_masking_mz(w: World):
    return {"applicant": "4414**********0314", "member_id": "4414**********0314", "member_mobile": "138****0001",
            "recorded": ["elicence:idcard"]}


def look_records(ch, w: World):
    ch.read(w.app_id)  # one read of the application, as the reviewer opens it
    with w.p.sessions() as s:
        return sorted(r.what for r in records_of(s, w.app_id))


def expect_jx_records(w: World):
    return ["elicence:hukou", "elicence:idcard"]


def look_signature(ch, w: World):
    return ch.signature(w.app_id)


def expect_signature(w: World):
    return ("image", SIGNATURE)


def look_precheck(ch, w: World):
    shown = ch.precheck(w.app_id)
    return {k: shown[k] for k in ("hukou", "education", "no_other_housing_benefit") if k in shown}


def expect_precheck(w: World):
    return {"hukou": "（户籍所在地：梅州市梅江区）", "education": "（最高学历：本科）",
            "no_other_housing_benefit": "（" + OTHER_BENEFITS + "：否）"}


def look_checklist(ch, w: World):
    return {"checklist": ch.checklist(w.app_id), "fields": ch.material_fields(w.app_id)}


def expect_checklist(w: World):
    from formflow.applications import drafts as apps
    from formflow.packs.versions import load_pinned

    with w.p.sessions() as s:
        app = s.get(Application, w.app_id)
        items = apps.checklist(load_pinned(s, app.versions), app.data, TODAY)
    def state(i) -> str:
        if (app.data.get("materials") or {}).get(i.kind):
            return "uploaded"
        return "unsigned" if i.signature else "not_obtained" if i.source else "missing"

    rows = [(i.kind, state(i)) for i in items]
    # only this application's checklist (never the 低保证 of another category)
    assert "subsistence_certificate" not in {k for k, _s in rows} and ("id_card", "uploaded") in rows
    return {"checklist": rows, "fields": {i.kind for i in items if i.field == f"materials.{i.kind}"}}


def look_not_found(ch, w: World):
    return ch.not_found(w.app_id)


def expect_not_found(w: World):
    return (404, "not_found", NOT_FOUND)


def look_no_citations(ch, w: World):
    text = ch.citizen_text(w.app_id)
    return [piece for piece in ("004 ", "表1", "004一") if piece in text]


def look_file(ch, w: World):
    with w.p.sessions() as s:
        sha = s.get(Application, w.app_id).data["materials"]["id_card"][0]["sha256"]
    return ch.file(w.app_id, sha)


def expect_file(w: World):
    return {"status": 200, "type": "image/png", "disposition": "attachment",
            "filename*": "UTF-8''" + quote(FILE_NAME, safe=""), "nosniff": "nosniff",
            "cache": "private, no-store", "notice_number": None, "body": PNG[:5]}


def look_notice(ch, w: World):
    with w.p.sessions() as s:
        notice = s.scalar(select(Notice).where(Notice.application_id == w.app_id))
    return ch.notice(w.app_id, notice.id)


def expect_notice(w: World):
    with w.p.sessions() as s:
        notice = s.scalar(select(Notice).where(Notice.application_id == w.app_id))
    return {"status": 200, "type": "application/pdf", "disposition": "attachment",
            "filename*": "UTF-8''" + quote(f"{notice.title}{notice.number}.pdf", safe=""), "nosniff": "nosniff",
            "cache": "private, no-store", "notice_number": quote(notice.number, safe=""), "body": b"%PDF-"}


# --------------------------------------------------------------------------- THE table


@dataclass(frozen=True)
class Scenario:
    id: str
    channels: tuple[str, ...]
    setup: Callable[..., World]
    look: Callable[[Any, World], Any]
    expect: Callable[[World], Any]
    pack: str = MZ
    reviewer: str | None = None


CITIZEN_SIDE = ("portal", "window", "api-citizen")
STAFF_SIDE = ("desk", "api-review")
EVERYONE = ("portal", "window", "desk", "api-citizen", "api-review")

SCENARIOS = [
    # 7 + 6: each action titled AT the stage it was taken; no reviewers' markings; local times
    Scenario("citizen-timeline", CITIZEN_SIDE, through_district_review, look_citizen_timeline,
             expect_citizen_timeline),
    # 7: every finished stage marked done, the current one current
    Scenario("citizen-progress", ("portal", "window"), through_district_review, look_progress, expect_progress),
    # 6: the list of my applications prints the submission in Beijing time
    Scenario("listed-local-time", CITIZEN_SIDE, through_district_review, look_listed_time, expect_listed_time),
    # 7 + 6 on the staff side: the same titles, markings with their outcome, who, local times
    Scenario("staff-history", STAFF_SIDE, through_district_review, look_staff_history, expect_staff_history),
    # 8: masked ID and mobile numbers on both staff channels
    Scenario("staff-masking", STAFF_SIDE, low_income, look_masking, expect_masking_mz),
    # 8: the e-licence data read is recorded the same way by the desk and the API
    Scenario("staff-access-records", STAFF_SIDE, jiangxi_with_elicences, look_records, expect_jx_records,
             pack=JX),
    # 5: a drawn signature is an image, never `data:` text
    Scenario("signature-image", STAFF_SIDE, jiangxi_with_elicences, look_signature, expect_signature, pack=JX),
    # 5: the pre-check reads enum titles and 是/否, never meijiang / bachelor / False
    Scenario("precheck-values", STAFF_SIDE, new_employee, look_precheck, expect_precheck),
    # 4b: only this application's checklist, each item with its state
    Scenario("checklist", STAFF_SIDE, low_income, look_checklist, expect_checklist),
    # 5: the packs' source citations never reach citizens
    Scenario("no-citations", CITIZEN_SIDE, with_notice, look_no_citations, lambda w: []),
    # one refusal: the same code and message on every channel
    Scenario("not-found", EVERYONE, nothing, look_not_found, expect_not_found),
    # one header policy for a file …
    Scenario("file-headers", EVERYONE, with_notice, look_file, expect_file),
    # … and for a notice, with one notice-number header
    Scenario("notice-headers", ("portal", "window", "desk", "api-citizen"), with_notice, look_notice, expect_notice,
             reviewer="mj-community"),
]

CASES = [pytest.param(sc, ch, id=f"{sc.id}-{ch}") for sc in SCENARIOS for ch in sc.channels]


@pytest.fixture
def contract_app(sqlite_platform):
    from api_support import api_app

    app = api_app(sqlite_platform)
    app.extensions["formflow.services"].clock.fixed_today = lambda: TODAY
    return app


@pytest.mark.parametrize(("scenario", "channel"), CASES)
def test_every_channel_shows_the_same(scenario: Scenario, channel: str, sqlite_platform, contract_app):
    world = scenario.setup(sqlite_platform, contract_app)
    ch = open_channel(channel, contract_app, pack=scenario.pack, reviewer=scenario.reviewer)
    assert scenario.look(ch, world) == scenario.expect(world)
