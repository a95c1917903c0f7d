"""The office tree: levels, paths, and "applications under this office" as one indexed range."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from formflow.auth.jurisdiction import under
from formflow.db.models import Account, Application, Office

pytestmark = pytest.mark.xdist_group("db")


def test_offices_have_levels_and_paths(platform_db):
    with platform_db.sessions() as s:
        offices = {o.id: o for o in s.scalars(select(Office))}
        parents = {o.id: o.parent.path for o in offices.values() if o.parent is not None}
    district = offices["441402"]
    assert district.level == "district" and district.path == "/441400/441402/"
    agencies = [o for o in offices.values() if o.kind in ("bureau", "centre") and o.parent_id == "441402"]
    assert agencies, "the district has bureaus"
    for agency in agencies:
        assert agency.level == "district" and agency.path == district.path
    communities = [o for o in offices.values() if o.kind == "community"]
    assert communities and all(o.path.startswith(parents[o.id]) for o in communities)


def test_applications_under_an_office(platform_db):
    with platform_db.sessions.begin() as s:
        applicant = s.scalar(select(Account).limit(1))
        communities = s.scalars(select(Office).where(Office.kind == "community")).all()
        jiangxi_street = s.scalars(select(Office).where(Office.pack == "jiangxi", Office.kind == "street")).first()
        for office in [*communities, jiangxi_street]:
            s.add(Application(pack=office.pack, matter="m", applicant_id=applicant.id, office_id=office.id,
                              office_path=office.path, data={}, versions={}, stages=[], household_hashes=[]))
    with platform_db.sessions() as s:
        district = s.get(Office, "441402")
        found = s.scalars(select(Application.office_id).where(under(Application.office_path, district.path))).all()
        assert sorted(found) == sorted(o.id for o in communities)
        city_of_other_pack = s.get(Office, "360100")
        other = s.scalars(select(Application.office_id).where(under(Application.office_path, city_of_other_pack.path)))
        assert list(other) == [jiangxi_street.id]


def test_loading_twice_changes_nothing(platform_db):
    from formflow.packs.seeding import load_all

    with platform_db.sessions() as s:
        before = sorted((o.id, o.path) for o in s.scalars(select(Office)))
        accounts = s.scalar(select(Account.id).order_by(Account.id.desc()).limit(1))
    with platform_db.sessions.begin() as s:
        load_all(s, platform_db.packs, platform_db.keys, demo=True)
    with platform_db.sessions() as s:
        assert sorted((o.id, o.path) for o in s.scalars(select(Office))) == before
        assert s.scalar(select(Account.id).order_by(Account.id.desc()).limit(1)) == accounts


def test_demo_identity_is_encrypted_and_findable(platform_db):
    with platform_db.sessions() as s:
        citizen = s.scalar(select(Account).where(Account.id_number_hash.is_not(None)).limit(1))
        number = platform_db.keys.open(citizen.id_number_enc)
        assert number.encode() not in citizen.id_number_enc
        assert s.scalar(select(Account).where(Account.id_number_hash == platform_db.keys.lookup(number))) == citizen
