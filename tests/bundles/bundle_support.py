"""Bundle tests: two environments' configuration roots, an application started and moved in the target."""

from __future__ import annotations

import shutil
from datetime import date
from itertools import count
from pathlib import Path

import yaml
from sqlalchemy import select

from formflow.calendars.workdays import load_calendar
from formflow.db.models import Account, Application, Office
from formflow.packs.versions import load_pinned, pin
from formflow.reviews.tables import record_marking
from formflow.workflow import engine

ROOT = Path(__file__).resolve().parents[2]
MZ, JX, MATTER = "meizhou-meijiang", "jiangxi", "public-rental-housing"
DAY = date(2026, 3, 2)
_numbers = count(1)


def copy_root(dest: Path, source: Path = ROOT) -> Path:
    for name in ("schemas", "workflows", "seeds", "renderers"):
        shutil.copytree(source / name, dest / name, symlinks=True)
    return dest


def edit_yaml(path: Path, change) -> None:
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(content)
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")


def change_source(root: Path) -> None:
    """What the source environment changed: the subsistence line, and a second acceptance check."""
    def parameters(content):
        content["parameters"]["subsistence_line"]["value"] = 950

    def workflow(content):
        content["stages"]["community_acceptance"]["actions"]["accept"]["to"] = "second_check"
        content["stages"]["second_check"] = {
            "title": "复核受理", "owner": {"role": "community_clerk", "level": "community"},
            "actions": {"pass": {"title": "复核通过", "to": "street_review"}},
        }

    edit_yaml(root / "seeds" / MZ / "parameters.yaml", parameters)
    edit_yaml(root / "workflows" / MZ / f"{MATTER}.yaml", workflow)


class Target:
    """The target environment's database and configuration: start an application, act on it."""

    def __init__(self, platform, root: Path) -> None:
        self.p = platform
        self.root = root
        self.calendar = load_calendar(ROOT / "seeds" / "calendar")

    def start(self, packs) -> int:
        with self.p.sessions.begin() as s:
            where = s.get(Office, "441402001001")
            applicant = s.scalar(select(Account).where(Account.username == "mj-citizen-chen"))
            app = Application(number=f"B{next(_numbers):06d}", pack=MZ, matter=MATTER, status="draft",
                              applicant_id=applicant.id, office_id=where.id, office_path=where.path,
                              versions=pin(s, packs, MZ, MATTER), data={})
            s.add(app)
            s.flush()
            engine.enter_workflow(s, app, applicant, calendar=self.calendar, today=DAY)
            return app.id

    def accept(self, app_id: int) -> tuple[str, ...]:
        """The community clerk marks the acceptance table and accepts; the stages it reaches."""
        actor = self.p.account("mj-community")
        with self.p.sessions.begin() as s:
            app = s.get(Application, app_id)
            pinned = load_pinned(s, app.versions)
            table_id = pinned.workflow["stages"]["community_acceptance"]["table"]
            rows = {str(r["no"]): {"criteria": ["pass"] * len(r["criteria"])} for r in pinned.table(table_id)["rows"]}
            record_marking(s, app, "community_acceptance", table_id, {"rows": rows}, actor, pinned)
        with self.p.sessions.begin() as s:
            moved = engine.perform(s, app_id, stage="community_acceptance", action="accept", actor=actor,
                                   expected_version=s.get(Application, app_id).version, calendar=self.calendar,
                                   today=DAY, storage=self.p.storage, renderers=ROOT / "renderers",
                                   keys=self.p.keys)
        return tuple(moved.stages)

    def application(self, app_id: int) -> Application:
        with self.p.sessions() as s:
            return s.get(Application, app_id)
