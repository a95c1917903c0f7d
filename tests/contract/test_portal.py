"""Portal contract: the citizen channels' leftovers of "one core, thin channels".

ONE table of scenarios, each run on every channel that offers its use case — the portal, the
service-hall window, the desk and the API — and each channel must give the outcome the scenario
expects:

- the status words of a draft, an active, an approved and a withdrawn application (one table,
  `applications.status`, worded the same on every channel);
- the confirmation page's pre-check reads enum titles and 是/否, never `meijiang`, `bachelor`, `False`;
- e-licence copies on the wizard's pages: the applicant reads the ID number in full, the window clerk masked;
- the public materials catalogue carries no citations of the packs' sources ("004 一、3");
- a wrong ID number is explained in the same words (and in English) wherever it is refused.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from contract.portal_channels import TODAY, draft, open_channel
from contract.viewing_channels import JX, MZ, create
from formflow.db.models import Account, Application

EN = {"Accept-Language": "en"}
#: 441402198803150314 with a wrong check digit
WRONG_ID = "441402198803150315"


@dataclass
class World:
    p: Any
    app_id: int
    pack: str = MZ


def _assisted(p, app_id: int, pack: str = MZ) -> None:
    from contract.portal_channels import WINDOW_CLERK

    with p.sessions.begin() as s:
        s.get(Application, app_id).assisted_by_id = s.scalar(
            select(Account.id).where(Account.username == WINDOW_CLERK[pack]))


# --------------------------------------------------------------------------- worlds


def a_draft(p, app) -> World:
    return World(p, draft(p, MZ, {"category": {"applicant_category": "low-income"}}, category="low-income"))


def an_active(p, app) -> World:
    app_id = create(p, MZ, today=TODAY, category="low-income")
    _assisted(p, app_id)
    return World(p, app_id)


def an_approved(p, app) -> World:
    """Closed at the workflow's `approved` end (the workflow words the outcome: 符合住房保障条件)."""
    app_id = create(p, MZ, today=TODAY, category="low-income")
    _assisted(p, app_id)
    with p.sessions.begin() as s:
        row = s.get(Application, app_id)
        row.status, row.result, row.stages = "closed", "approved", ["approved"]
    return World(p, app_id)


def a_withdrawn(p, app) -> World:
    """Submitted, then withdrawn by its applicant (the workflow's citizen action)."""
    from api_support import Client

    app_id = create(p, MZ, today=TODAY, category="low-income")
    _assisted(p, app_id)
    c = Client(app)
    c.sign_in("mj-citizen-chen")
    version = c.get(f"/applications/{app_id}").json["version"]
    r = c.post(f"/applications/{app_id}/withdraw", {"version": version, "reason": "不再需要"})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return World(p, app_id)


NEW_EMPLOYEE = {
    "category": {"applicant_category": "new-employee", "support_mode": "physical_allocation"},
    "members": {"applicant": {"name": "陈志强", "id_number": "441402198803150314", "mobile": "13807530001",
                              "marital_status": "unmarried", "hukou_region": "meijiang", "monthly_income": 1500,
                              "education": {"level": "bachelor", "graduation_date": "2025-07-01"},
                              "employment": {"employer": "梅州示例公司", "employer_in_urban_area": True,
                                             "has_labour_contract": False}}},
    "housing": {"owns_property": False, "other_housing_benefits": False},
}


def a_new_employee_draft(p, app) -> World:
    return World(p, draft(p, MZ, copy.deepcopy(NEW_EMPLOYEE), category="new-employee"))


def a_jiangxi_draft_with_elicences(p, app) -> World:
    from portal.conftest import JIANGXI_OK

    return World(p, draft(p, JX, copy.deepcopy(JIANGXI_OK), category="urban-low-income"), pack=JX)


def nothing(p, app) -> World:
    return World(p, 0)


# --------------------------------------------------------------------------- looks and expectations


def look_status(ch, w: World) -> str:
    return ch.status_word(w.app_id)


def status(expected: str) -> Callable[[World], str]:
    return lambda w: expected


def look_confirm_precheck(ch, w: World) -> dict[str, str]:
    shown = ch.confirm_precheck(w.app_id)
    return {k: shown[k] for k in ("hukou", "education", "no_other_housing_benefit") if k in shown}


OTHER_BENEFITS = "申请人及家庭成员是否参加过房改房、集资建房或享受过其他住房保障、住房优惠政策"


def expect_precheck(w: World) -> dict[str, str]:
    return {"hukou": "（户籍所在地：梅州市梅江区）", "education": "（最高学历：本科）",
            "no_other_housing_benefit": "（" + OTHER_BENEFITS + "：否）"}


def look_elicence_copy(ch, w: World) -> str | None:
    return ch.copy_on_step(w.app_id, "materials", "f-materials-id_card-id_number")


def look_public_catalogue(ch, w: World) -> list[str]:
    text = ch.public_catalogue(MZ)
    return [piece for piece in ("004 ", "004一", "表1", '"source": "004') if piece in text]


def look_wrong_id(ch, w: World) -> tuple[str, str]:
    return ch.wrong_id_number(MZ, WRONG_ID, {}), ch.wrong_id_number(MZ, WRONG_ID, EN)


# --------------------------------------------------------------------------- THE table


@dataclass(frozen=True)
class Scenario:
    id: str
    channels: tuple[str, ...]
    setup: Callable[..., World]
    look: Callable[[Any, World], Any]
    expect: Callable[[World], Any]
    pack: str = MZ


SCENARIOS = [
    # 8: one table of status words, the same on every channel that shows the application
    Scenario("status-draft", ("portal", "window", "api"), a_draft, look_status, status("草稿（未提交）")),
    Scenario("status-active", ("portal", "window", "desk", "api"), an_active, look_status, status("办理中")),
    Scenario("status-approved", ("portal", "window", "desk", "api"), an_approved, look_status,
             status("已办结（符合住房保障条件）")),
    Scenario("status-withdrawn", ("portal", "window", "desk", "api"), a_withdrawn, look_status,
             status("已办结（已放弃申请）")),
    # 5: the confirmation page reads enum titles and 是/否 (the desk's pre-check: tests/contract/test_viewing.py)
    Scenario("confirm-precheck-values", ("portal", "window"), a_new_employee_draft, look_confirm_precheck,
             expect_precheck),
    # 6: e-licence copies on the wizard's pages: in full for the applicant, masked for anyone else
    Scenario("elicence-copy-applicant", ("portal",), a_jiangxi_draft_with_elicences, look_elicence_copy,
             lambda w: "36010219950410004X", pack=JX),
    Scenario("elicence-copy-others", ("window",), a_jiangxi_draft_with_elicences, look_elicence_copy,
             lambda w: "3601**********004X", pack=JX),
    # 5: the public materials catalogue carries no citations of the packs' sources
    Scenario("public-catalogue-no-citations", ("api",), nothing, look_public_catalogue, lambda w: []),
    # 4: a wrong ID number is explained in the same words, in Chinese and in English
    Scenario("wrong-id-number", ("window", "api"), nothing, look_wrong_id,
             lambda w: ("公民身份号码校验位不正确", "Resident ID number has a wrong check digit")),
]

CASES = [pytest.param(sc, ch, id=f"{sc.id}-{ch}") for sc in SCENARIOS for ch in sc.channels]


@pytest.fixture
def contract_app(sqlite_platform):
    from api_support import api_app

    app = api_app(sqlite_platform)
    app.extensions["formflow.services"].clock.fixed_today = lambda: TODAY
    return app


@pytest.mark.parametrize(("scenario", "channel"), CASES)
def test_every_citizen_channel_gives_the_same(scenario: Scenario, channel: str, sqlite_platform, contract_app):
    world = scenario.setup(sqlite_platform, contract_app)
    ch = open_channel(channel, contract_app, pack=scenario.pack)
    assert scenario.look(ch, world) == scenario.expect(world)


def test_the_status_words_are_one_table():
    """The portal, the window, the API and the viewing use cases read `applications.status`, not their own."""
    from pathlib import Path

    import formflow

    root = Path(formflow.__file__).parent
    for path in ("web/portal.py", "web/window.py", "web/wizard.py", "api/common.py", "api/views_citizen.py",
                 *(f"usecases/viewing/{p.name}" for p in (root / "usecases" / "viewing").glob("*.py"))):
        text = (root / path).read_text(encoding="utf-8")
        assert "STATUS_TITLES = " not in text and "RESULT_TITLES = " not in text, path
