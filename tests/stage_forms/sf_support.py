"""Stage form test support: the platform with the test pack, its web app and API, an application at the street."""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import Any

import yaml
from sqlalchemy import select

from formflow.calendars.workdays import load_calendar
from formflow.db.models import Account, Application, Event, Office, ReviewMarking
from formflow.packs.versions import load_pinned, pin
from formflow.reviews.tables import record_marking
from formflow.workflow import engine
from support import ROOT, WebClient, demo_password, make_web_app

MZ = "meizhou-meijiang"
MATTER = "public-rental-housing"
HOME = "441402001001"
CALENDAR = load_calendar(ROOT / "seeds" / "calendar")
_numbers = count(1)


def all_pass(table: dict[str, Any]) -> dict[str, Any]:
    return {"rows": {str(r["no"]): {"criteria": ["pass"] * len(r["criteria"])} for r in table["rows"]}}


class StagePack:
    """The platform on the test pack, a web app over it (today fixed), signed-in desk and API clients."""

    def __init__(self, platform, today: date) -> None:
        self.p = platform
        self.today = today
        self.app = make_web_app(platform)
        self.app.extensions["formflow.services"].clock.fixed_today = lambda: self.today

    def desk(self, username: str) -> WebClient:
        c = WebClient(self.app)
        assert c.login(username).status_code == 302
        return c

    def api(self, username: str):
        c = self.app.test_client(use_cookies=False)
        r = c.post("/api/v1/tokens", json={"username": username, "password": demo_password(username)})
        assert r.status_code == 201, r.get_data(as_text=True)
        return c, {"Authorization": f"Bearer {r.json['access_token']}"}

    def account(self, username: str) -> Account:
        found = self.p.account(username)
        assert found is not None
        return found

    def at_street(self) -> int:
        """A submitted application, accepted by the community: now at the street review."""
        with self.p.sessions.begin() as s:
            where = s.get(Office, HOME)
            applicant = s.scalar(select(Account).where(Account.username == "mj-citizen-chen"))
            app = Application(
                number=f"S{self.today:%Y%m%d}{next(_numbers):05d}", pack=MZ, matter=MATTER, status="draft",
                applicant_id=applicant.id, office_id=where.id, office_path=where.path,
                versions=pin(s, self.p.packs, MZ, MATTER), data={"members": {"applicant": {
                    "name": "陈志强", "id_number": "441402198803150314", "mobile": "13807530001",
                    "marital_status": "married", "monthly_income": 1500}}},
            )
            s.add(app)
            s.flush()
            engine.enter_workflow(s, app, applicant, calendar=CALENDAR, today=self.today)
            app_id = app.id
        with self.p.sessions.begin() as s:
            app = s.get(Application, app_id)
            pinned = load_pinned(s, app.versions)
            record_marking(s, app, "community_acceptance", "acceptance", all_pass(pinned.table("acceptance")),
                           self.account("mj-community"), pinned)
        with self.p.sessions.begin() as s:
            engine.perform(s, app_id, stage="community_acceptance", action="accept",
                           actor=self.account("mj-community"), expected_version=s.get(Application, app_id).version,
                           calendar=CALENDAR, today=self.today, storage=self.p.storage,
                           renderers=self.p.root / "renderers", keys=self.p.keys)
        return app_id

    def table(self, app_id: int, table_id: str = "acceptance") -> dict[str, Any]:
        with self.p.sessions() as s:
            return load_pinned(s, s.get(Application, app_id).versions).table(table_id)

    def markings(self, app_id: int, stage: str = "street_review") -> list[ReviewMarking]:
        with self.p.sessions() as s:
            return list(s.scalars(select(ReviewMarking).where(ReviewMarking.application_id == app_id,
                                                              ReviewMarking.stage == stage)
                                  .order_by(ReviewMarking.id)))

    def events(self, app_id: int) -> list[Event]:
        with self.p.sessions() as s:
            return list(s.scalars(select(Event).where(Event.application_id == app_id).order_by(Event.id)))

    def application(self, app_id: int) -> Application:
        with self.p.sessions() as s:
            return s.get(Application, app_id)


def desk_marking(table: dict[str, Any], **fields: str) -> dict[str, str]:
    """The desk's posted form: every criterion 符合, plus the stage form's fields (`f.<name>`)."""
    out = {f"r{r['no']}.c{i}": "pass" for r in table["rows"] for i, _c in enumerate(r["criteria"])}
    out.update({f"f.{k}": v for k, v in fields.items()})
    return out


#: The street review's own fields (the street investigates the household's income and visits it, 004 九、2).
STREET_FORM = {
    "type": "object",
    "required": ["verified_income"],
    "properties": {
        "verified_income": {"type": "number", "title": "核定家庭人均月收入（元）", "minimum": 0, "format": "money"},
        "appointment": {"type": "string", "format": "date", "title": "入户调查日期"},
        "household_visited": {"type": "boolean", "title": "已入户调查"},
    },
}
#: Approving at the street needs the verified income at or below the subsistence line (900 元 in the pack).
INCOME_RULE = {"<=": [{"var": "stage.street_review.verified_income"}, {"var": "params.subsistence_line"}]}


def write_stage_form_pack(root) -> None:
    path = root / "workflows" / MZ / "public-rental-housing.yaml"
    wf = yaml.safe_load(path.read_text(encoding="utf-8"))
    street = wf["stages"]["street_review"]
    street["form"] = STREET_FORM
    street["actions"]["approve"]["guard"] = {"outcome": "pass", "rule": INCOME_RULE}
    path.write_text(yaml.safe_dump(wf, allow_unicode=True, sort_keys=False), encoding="utf-8")


def write_household_fact(root) -> None:
    """The household archive keeps the verified income, and the subsidy roster shows it as a column."""
    path = root / "schemas" / MZ / MATTER / "allocation.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["household"]["facts"]["verified_income"] = {
        "title": "核定家庭人均月收入", "unit": "元", "logic": {"var": "stage.street_review.verified_income"}}
    spec["subsidy"]["columns"] = [*spec["subsidy"].get("columns", []), "verified_income"]
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
