"""An upload builds only the step it goes to: the same file list (or none) as the whole form's walk."""

from __future__ import annotations

import copy
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from drafts import HOME_OFFICE, MATTER, PACK, form_data, with_materials  # noqa: E402

from formflow.applications import drafts as apps  # noqa: E402
from formflow.db.models import Account  # noqa: E402
from formflow.usecases.files import dotted, file_field_at, file_fields, path_of  # noqa: E402

TODAY = date(2026, 3, 2)


def test_file_field_at_is_the_whole_walks_answer(sqlite_platform):
    p = sqlite_platform
    with p.sessions.begin() as session:
        account = Account(username="hd-files", display_name="申请人", is_demo=False)
        session.add(account)
        session.flush()
        app = apps.start_draft(session, p.packs, applicant=account, pack=PACK, matter=MATTER,
                               office_id=HOME_OFFICE, channel="community")
        pinned = apps.pinned_of(session, app)
    full = with_materials(pinned, form_data(9), TODAY)
    single = copy.deepcopy(full)
    single["members"]["applicant"]["marital_status"] = "unmarried"
    single["members"]["co_applicants"] = []
    datas = [full, single, {}, {"materials": {}}, {s: {} for s in full}]
    found = 0
    for data in datas:
        every = file_fields(pinned, data)
        places = [*every, *(f"{s}.nothing" for s in full), "members.applicant.name", "nowhere.x", "materials",
                  "/materials/0", "/0/x"]
        for place in places:
            path = path_of(place)
            want = every.get(dotted(path))
            got = file_field_at(pinned, data, path)
            assert (got is None) == (want is None), place
            if want is not None:
                found += 1
                assert (got.path, got.widget, got.title, got.required, got.value) == \
                       (want.path, want.widget, want.title, want.required, want.value)
    assert found >= 10
