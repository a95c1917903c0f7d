"""The queue's fast path (statements built once, reach computed once per key) answers as the slow path does.

The slow path is the plain reading of the rules: every application of `queue_query`, sorted overdue first,
then deadline (none last), then id, cut into pages by keyset. The fast path is `queue_page`. They must give
the same rows, in the same order, with the same cursors, on both databases; and what `reach_of` caches must
never outlive what it was computed from: a role granted or revoked between two pages, or a workflow version
pinned or dropped, shows on the very next page.
"""

from __future__ import annotations

import copy
import sys
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import delete, update

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tests" / "desk") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "desk"))

from desk_support import MATTER, MZ, create  # noqa: E402

from formflow.auth.grants import grant_role, revoke_role  # noqa: E402
from formflow.db.models import Application, PackVersion, RoleAssignment, utcnow  # noqa: E402
from formflow.packs.versions import content_hash  # noqa: E402
from formflow.reviews.queue import (  # noqa: E402
    Filters,
    Reach,
    encode_cursor,
    owned_stages,
    queue_page,
    queue_query,
    reach_of,
    read_ahead,
    workflow_specs,
)
from formflow.workflow.access import assignments  # noqa: E402

TODAY = date(2026, 3, 2)
COMMUNITY = "441402001001"
STREET = "441402001"


def _corpus(p, n: int = 26) -> list[int]:
    """`n` applications at the community, with deadlines and overdue flags spread (ties on the deadline)."""
    made = [create(p, today=TODAY, category="low-income" if i % 3 else "new-employee",
                   channel="community" if i % 2 else "web") for i in range(n)]
    with p.sessions.begin() as s:
        for i, app_id in enumerate(made):
            s.execute(update(Application).where(Application.id == app_id).values(
                deadline=None if i % 6 == 0 else TODAY + timedelta(days=i % 4), overdue=i % 5 == 0))
    return made


def _slow(p, account_id: int, filters: Filters) -> list[int]:
    with p.sessions() as s:
        reach = _reference_reach(s, account_id, p.packs)
        apps = s.scalars(queue_query(s, reach, filters)).all()
        return [a.id for a in sorted(apps, key=lambda a: (not a.overdue, a.deadline or date.max, a.id))]


def _fast(p, account_id: int, filters: Filters, limit: int) -> list[list[int]]:
    """Every page, following `next_cursor`; each cursor checked to be the keyset of the page's last row."""
    pages: list[list[int]] = []
    after = None
    while True:
        with p.sessions() as s:
            page = queue_page(s, account_id, filters=filters, after=after, limit=limit, packset=p.packs)
            pages.append([a.id for a in page.items])
            if page.next_cursor is not None:
                assert len(page.items) == limit and page.next_cursor == encode_cursor(page.items[-1])
        after = page.next_cursor
        if after is None:
            return pages
        assert len(pages) < 100


def _reference_reach(s, account_id: int, packset) -> list[Reach]:
    """reach_of as it was written before any cache: every piece read afresh."""
    out = []
    for role, office in assignments(s, account_id):
        if office is None:
            continue
        specs = workflow_specs(s, office.pack, packset)
        stages = owned_stages(specs, role, office.level)
        if stages:
            out.append(Reach(office.pack, role, office.id, office.path, office.level, stages,
                             read_ahead(packset, office.pack, role, office.level)))
    return out


def test_pages_match_the_plain_reading_on_each_database(platform_db):
    p = platform_db
    _corpus(p)
    account = p.account("mj-community").id
    filters = [Filters(), Filters(category="low-income"), Filters(channel="web", overdue=False),
               Filters(overdue=True), Filters(stage="community_acceptance"), Filters(stage="street_review")]
    for f in filters:
        expected = _slow(p, account, f)
        for limit in (1, 7, 20, 100):
            pages = _fast(p, account, f, limit)
            assert [i for page in pages for i in page] == expected, (f, limit)
            assert all(len(page) == limit for page in pages[:-1])
    assert _slow(p, account, Filters()), "the corpus is in the community clerk's queue"


def test_a_grant_or_revocation_between_two_pages_shows_at_once(platform_db):
    p = platform_db
    _corpus(p)
    clerk, street = p.account("mj-community").id, p.account("mj-street").id
    first = _fast(p, clerk, Filters(), 10)
    assert _fast(p, street, Filters(), 10) == [[]]  # the street reviewer owns no stage they are at

    with p.sessions.begin() as s:
        grant_role(s, "mj-street", "community_clerk", COMMUNITY, by="test")
    assert _fast(p, street, Filters(), 10) == first
    with p.sessions() as s:
        page = queue_page(s, street, limit=10, packset=p.packs)
        assert {r.role for r in page.reach} == {"street_reviewer", "community_clerk"}
        cursor = page.next_cursor
    with p.sessions.begin() as s:
        revoke_role(s, "mj-street", "community_clerk", COMMUNITY, by="test")
    with p.sessions() as s:  # the second page, after the revocation: nothing
        page = queue_page(s, street, after=cursor, limit=10, packset=p.packs)
        assert page.items == [] and {r.role for r in page.reach} == {"street_reviewer"}

    # a row written without grant_role (no session epoch bumped) counts too
    with p.sessions.begin() as s:
        s.add(RoleAssignment(account_id=street, role="community_clerk", office_id=COMMUNITY, pack=MZ))
    assert _fast(p, street, Filters(), 10) == first
    with p.sessions.begin() as s:
        s.execute(delete(RoleAssignment).where(RoleAssignment.account_id == street,
                                               RoleAssignment.role == "community_clerk"))
    assert _fast(p, street, Filters(), 10) == [[]]


def test_reach_follows_the_workflow_versions_pinned(platform_db):
    p = platform_db
    _corpus(p, 3)
    street = p.account("mj-street").id
    with p.sessions() as s:
        before = reach_of(s, street, p.packs)
        assert before == _reference_reach(s, street, p.packs)
        assert "community_acceptance" not in before[0].stages

    # a version in which the street reviewer owns community acceptance, as if an application had pinned it
    workflow = copy.deepcopy(p.packs.packs[MZ].matters[MATTER].workflow.content)
    workflow["stages"]["community_acceptance"]["owner"] = {"role": "street_reviewer", "level": "street"}
    digest = content_hash(workflow)
    with p.sessions.begin() as s:
        s.add(PackVersion(hash=digest, pack=MZ, matter=MATTER, kind="workflow", name="workflow",
                          content=workflow, loaded_at=utcnow()))
    with p.sessions() as s:
        after = reach_of(s, street, p.packs)
        assert after == _reference_reach(s, street, p.packs)
        assert after[0].stages == before[0].stages | {"community_acceptance"}
        page = queue_page(s, street, limit=100, packset=p.packs)
        assert len(page.items) == 3

    with p.sessions.begin() as s:
        s.execute(delete(PackVersion).where(PackVersion.hash == digest))
    with p.sessions() as s:
        assert reach_of(s, street, p.packs) == before
        assert queue_page(s, street, limit=100, packset=p.packs).items == []


def test_reach_follows_the_packs_loaded(platform_db):
    """Another pack set (a changed workflow file, a read_ahead grant) gives its own reach, not the cached one."""
    p = platform_db
    _corpus(p, 2)
    street = p.account("mj-street").id
    changed = copy.copy(p.packs)
    pack = copy.copy(p.packs.packs[MZ])
    matter = copy.copy(pack.matters[MATTER])
    doc = copy.copy(matter.workflow)
    doc.content = copy.deepcopy(doc.content)
    doc.content["stages"]["community_acceptance"]["owner"] = {"role": "street_reviewer", "level": "street"}
    doc.content["read_ahead"] = [{"roles": ["street_reviewer"], "from": "community_acceptance"}]
    matter.workflow, pack.matters, changed.packs = doc, {**pack.matters, MATTER: matter}, {**p.packs.packs, MZ: pack}

    with p.sessions() as s:
        shipped = reach_of(s, street, p.packs)
        other = reach_of(s, street, changed)
        assert other == _reference_reach(s, street, changed) and shipped == _reference_reach(s, street, p.packs)
        assert "community_acceptance" in other[0].stages and "community_acceptance" not in shipped[0].stages
        assert other[0].ahead == frozenset({(MATTER, "community_acceptance")}) and shipped[0].ahead == frozenset()
        assert len(queue_page(s, street, limit=100, packset=changed).items) == 2
        assert queue_page(s, street, limit=100, packset=p.packs).items == []
        assert reach_of(s, street, p.packs) == shipped
