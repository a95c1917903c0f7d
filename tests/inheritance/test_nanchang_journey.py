"""A citizen in Nanchang gets the Nanchang pack; its application moves to approval under the effective
versions it pinned, and a later change of the province's pack does not move it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import wf_support
import yaml
from sqlalchemy import select
from wf_support import HAPPY, JX, Flow

from contract.start_channels import START_CHANNELS, Env
from formflow.db.models import Application, Consent, Notice
from formflow.packs import load_packs
from formflow.packs.versions import load_pinned, pin
from support import make_web_app

NC, MATTER = "jiangxi-nanchang", "public-rental-housing"
DAY = date(2026, 3, 2)  # a Monday


@pytest.fixture
def env(sqlite_platform) -> Env:
    return Env(sqlite_platform, make_web_app(sqlite_platform))


@pytest.mark.parametrize("channel", START_CHANNELS, ids=lambda c: c.name)
@pytest.mark.parametrize("region", ["360100", "360102001"])
def test_a_region_under_nanchang_resolves_to_the_nanchang_pack(env, channel, region):
    outcome = channel().start(env, JX, region)  # chosen on the province's matter
    assert outcome.ok, outcome
    app = env.app(outcome.app_id)
    assert (app.pack, app.office_id) == (NC, "360102001")
    with env.p.sessions() as s:
        pinned = load_pinned(s, app.versions)
        assert pinned.documents["parameters"]["parameters"]["subsistence_line"]["value"] == 1000
        assert pinned.manifest["name"] == "南昌市" and pinned.manifest["lineage"] == [JX]
        assert app.versions == pin(s, env.p.packs, NC, MATTER)  # the effective content, hashed
        # the consent given on the province's (identical) agreement is carried to the city's matter
        assert s.scalar(select(Consent.accepted).where(Consent.pack == NC, Consent.account_id == app.applicant_id))


def test_a_region_elsewhere_in_jiangxi_stays_with_the_province(env):
    from formflow.db.models import Office
    from formflow.usecases.start import resolve_pack

    services = env.web_app.extensions["formflow.services"]
    with env.p.sessions() as s:
        assert resolve_pack(services, s, JX, MATTER, s.get(Office, "360400")) == JX  # 九江市
        assert resolve_pack(services, s, JX, MATTER, s.get(Office, "360102001")) == NC
        assert resolve_pack(services, s, NC, MATTER, s.get(Office, "360102001")) == NC


def _create(flow: Flow, monkeypatch, packs=None) -> int:
    monkeypatch.setitem(wf_support.CITIZEN, NC, wf_support.CITIZEN[JX])
    return flow.create(NC, office="360102001", today=DAY, packs=packs)


def _drive_to_approval(flow: Flow, app_id: int) -> None:
    day = DAY
    for stage, action, user, mark, note in HAPPY[JX]:  # the inherited workflow, Jiangxi's reviewers
        if action is None:
            day = flow.app(app_id).deadline + timedelta(days=1)
            assert flow.tick(day).expired == [app_id], stage
            continue
        flow.act(app_id, stage, action, user, today=day, note=note, mark=mark)


def test_a_nanchang_application_is_driven_to_approval_by_the_shared_offices(sqlite_platform, calendar,
                                                                            monkeypatch):
    flow = Flow(sqlite_platform, calendar)
    app_id = _create(flow, monkeypatch)
    _drive_to_approval(flow, app_id)
    app = flow.app(app_id)
    assert (app.status, app.result, app.pack) == ("closed", "approved", NC)
    with sqlite_platform.sessions() as s:
        notice = s.scalar(select(Notice).where(Notice.application_id == app_id, Notice.kind == "acceptance"))
        assert notice.number == f"洪公租受〔{DAY.year}〕1号"  # the city's notice text, its own numbering
        assert flow.actions(app_id)[-1] == "register"


def test_a_parent_change_does_not_move_an_in_flight_child_application(config_copy, sqlite_platform, calendar,
                                                                      monkeypatch):
    flow = Flow(sqlite_platform, calendar, load_packs(config_copy))
    old = _create(flow, monkeypatch)
    old_versions = flow.app(old).versions

    params = config_copy / "seeds" / JX / "parameters.yaml"
    doc = yaml.safe_load(params.read_text(encoding="utf-8"))
    doc["parameters"]["housing_area_per_capita_limit"]["value"] = 20
    params.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    workflow = config_copy / "workflows" / JX / "public-rental-housing.yaml"
    wf = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    wf["stages"]["acceptance"]["time_limit"]["days"] = 2
    workflow.write_text(yaml.safe_dump(wf, allow_unicode=True, sort_keys=False), encoding="utf-8")
    changed = load_packs(config_copy)
    assert not changed.problems
    effective = changed.packs[NC].parameters.content["parameters"]
    assert effective["housing_area_per_capita_limit"]["value"] == 20  # a new child application inherits it
    assert effective["subsistence_line"]["value"] == 1000  # the child's own stays

    flow = Flow(sqlite_platform, calendar, changed)
    new = _create(flow, monkeypatch, changed)
    assert flow.app(old).versions == old_versions
    assert flow.app(new).versions["parameters"] != old_versions["parameters"]
    assert flow.app(new).versions["workflow"] != old_versions["workflow"]
    assert flow.app(old).deadline == date(2026, 3, 9) and flow.app(new).deadline == date(2026, 3, 4)
    with sqlite_platform.sessions() as s:
        pinned = load_pinned(s, s.get(Application, old).versions)
        assert pinned.documents["parameters"]["parameters"]["housing_area_per_capita_limit"]["value"] == 15
    _drive_to_approval(flow, old)  # still moves, under what it pinned
    assert (flow.app(old).status, flow.app(old).result) == ("closed", "approved")


def test_a_city_application_uses_its_provinces_template_override(sqlite_platform, calendar, monkeypatch, tmp_path):
    """A template the province overrides under renderers/jiangxi/documents/ is the city's too (its lineage),
    unless the city overrides it itself."""
    import shutil
    from pathlib import Path

    from formflow.documents import notices
    from formflow.documents.pdf import pdf_text

    renderers = tmp_path / "renderers"
    shutil.copytree(Path(__file__).resolve().parents[2] / "renderers", renderers)
    shared = (renderers / "documents" / "acceptance.html").read_text(encoding="utf-8")
    (renderers / "jiangxi" / "documents").mkdir(parents=True)
    (renderers / "jiangxi" / "documents" / "acceptance.html").write_text(
        shared.replace("{% block body %}", "{% block body %}<p>江西省统一文书样式</p>", 1), encoding="utf-8")
    flow = Flow(sqlite_platform, calendar)
    app_id = _create(flow, monkeypatch)
    _drive_to_approval(flow, app_id)
    with sqlite_platform.sessions.begin() as s:
        notice = s.scalar(select(Notice).where(Notice.application_id == app_id, Notice.kind == "acceptance"))
        notices.render_stored(s, notice, context={}, storage=sqlite_platform.storage, renderers=renderers,
                              issued_on=DAY, keys=sqlite_platform.keys)
        text = pdf_text(sqlite_platform.storage.read(notice.sha256))
    assert "江西省统一文书样式" in "".join(text.split())
    dirs, _name = notices.template_dirs(renderers, NC, "documents/acceptance.html", ["jiangxi"])
    assert dirs[:3] == [renderers / NC / "documents", renderers / "jiangxi" / "documents", renderers / "documents"]
