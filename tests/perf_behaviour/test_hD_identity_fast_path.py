"""A save skips the identity walk only when the walk could not refuse it.

`usecases.drafts._keeps_identity` looks at every `name` / `id_number` outside lists without the
form; whenever it says True, `identity.bound_identity_problems` (which walks the form) must find
nothing. On a corpus of saves (the verified values, the stored ones, emptied, another person's,
spaces and case, a spouse's number in the list, values moved elsewhere) the two must agree.
"""

from __future__ import annotations

import copy
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from drafts import HOME_OFFICE, MATTER, PACK, form_data  # noqa: E402

from formflow.applications import drafts as apps  # noqa: E402
from formflow.db.models import Account  # noqa: E402
from formflow.usecases.drafts import _keeps_identity  # noqa: E402
from formflow.usecases.identity import bound_identity_problems  # noqa: E402

TODAY = date(2026, 3, 2)


def _variants(saved: dict, identity: dict) -> list[dict]:
    out = [copy.deepcopy(saved)]
    for key, value in (("id_number", "110101199003070011"), ("id_number", identity["id_number"].lower() + " "),
                       ("id_number", ""), ("id_number", None), ("name", "王五"), ("name", " 陈志强 "), ("name", 5)):
        d = copy.deepcopy(saved)
        d["members"]["applicant"][key] = value
        out.append(d)
    d = copy.deepcopy(saved)
    d["members"]["co_applicants"][0]["id_number"] = "110101199003070011"  # list items are never bound
    out.append(d)
    d = copy.deepcopy(saved)
    d["housing"]["name"] = "别人"  # a key the form does not bind
    out.append(d)
    d = copy.deepcopy(saved)
    d["members"]["applicant"] = {"name": {"x": 1}, "id_number": ["1"]}
    out.append(d)
    d = copy.deepcopy(saved)
    del d["members"]
    out.append(d)
    return out


def test_the_fast_path_never_passes_what_the_walk_refuses(sqlite_platform):
    p = sqlite_platform
    with p.sessions.begin() as session:
        account = Account(username="hd-identity", display_name="申请人", is_demo=False)
        session.add(account)
        session.flush()
        app = apps.start_draft(session, p.packs, applicant=account, pack=PACK, matter=MATTER,
                               office_id=HOME_OFFICE, channel="community")
        pinned = apps.pinned_of(session, app)
    saved = form_data(5)
    applicant = saved["members"]["applicant"]
    identity = {"name": applicant["name"], "id_number": applicant["id_number"]}
    other = {"name": "赵六", "id_number": "110101199003070011"}
    olds = [saved, {}, _variants(saved, identity)[1]]
    checked = skipped = refused = 0
    for ident in (identity, other, None, {"name": "x"}):
        for old in olds:
            for new in _variants(saved, identity):
                walked = bound_identity_problems(pinned, old, new, ident)
                refused += bool(walked)
                if _keeps_identity(old, new, ident):
                    skipped += 1
                    assert walked == [], (old, new, ident)
                checked += 1
    assert refused > 0  # the corpus holds saves the walk refuses
    assert skipped >= checked // 3  # the fast path is taken for ordinary saves
