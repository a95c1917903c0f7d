"""Issue 12 — configuration scope across inherited packs and for the auditor (三权分立).

A configurator held inside a city's region configures the city's pack and nothing of the province's; the
auditor reads the security log and nothing of configuration; the province configurator reaches the city's
pack (positive control).
"""

from __future__ import annotations

from sqlalchemy import select

from formflow.db.models import Account, Office, RoleAssignment


def _move_role_to_the_city(sec) -> None:
    with sec.p.sessions.begin() as s:
        clerk = s.scalar(select(Account).where(Account.username == "jx-configurator"))
        city = s.scalar(select(Office).where(Office.region_code == "360100", Office.pack == "jiangxi"))
        s.query(RoleAssignment).filter_by(account_id=clerk.id).update({"office_id": city.id})


def test_a_city_configurator_reaches_nothing_of_the_province(sec):
    _move_role_to_the_city(sec)
    c = sec.client("jx-configurator")
    assert c.get("/admin/jiangxi-nanchang/bundles").status_code == 200  # positive control: their own pack
    for path in ("/admin/jiangxi/parameters", "/admin/jiangxi/bundles", "/admin/jiangxi/bundles/export.zip",
                 "/admin/jiangxi/public-rental-housing/workflow", "/admin/jiangxi/webhooks"):
        assert c.get(path).status_code == 404, path
    overview = c.get("/admin/").get_data(as_text=True)
    assert 'id="pack-jiangxi-nanchang"' in overview and 'id="pack-jiangxi"' not in overview


def test_the_auditor_gets_no_configuration_and_no_bundle(sec):
    auditor = sec.client("mj-auditor")
    for path in ("/admin/", "/admin/meizhou-meijiang/bundles", "/admin/meizhou-meijiang/bundles/export.zip",
                 "/admin/meizhou-meijiang/parameters"):
        assert auditor.get(path).status_code in (403, 404), path
    configurator = sec.client("mj-configurator")
    assert configurator.get("/admin/meizhou-meijiang/bundles/export.zip").status_code == 200  # positive control


def test_the_province_configurator_exports_the_city_pack_with_its_province(sec):
    """The export of a city pack carries what it extends; the province configurator may take it."""
    import io
    import json
    import zipfile

    c = sec.client("jx-configurator")
    r = c.get("/admin/jiangxi-nanchang/bundles/export.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(r.data)).read("manifest.json"))
    assert {"jiangxi", "jiangxi-nanchang"} <= set(manifest["packs"])
