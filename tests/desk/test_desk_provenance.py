"""The desk shows where each prefilled value came from, and flags one the citizen changed afterwards."""

from __future__ import annotations

import copy
from datetime import date

from desk_support import create
from sqlalchemy import select

from formflow.db.models import Account, Application, ElicenceValue
from formflow.usecases.elicences import PREFILL, fetch_elicences

START = date(2026, 3, 2)


def test_prefilled_values_carry_their_licence_and_a_change_is_flagged(desk):
    p = desk.p
    app_id = create(p, today=START)
    services = desk.app.extensions["formflow.services"]
    with p.sessions.begin() as s:
        app = s.get(Application, app_id)
        applicant = s.get(Account, app.applicant_id)
        assert fetch_elicences(services, s, applicant, app, purpose=PREFILL) == []
    with p.sessions() as s:
        rows = {r.field: r for r in s.scalars(select(ElicenceValue).where(ElicenceValue.application_id == app_id))}
    assert {"members.applicant.name", "members.applicant.hukou_address"} <= set(rows)
    assert rows["members.applicant.name"].source == "idcard" and rows["members.applicant.name"].provider == "demo"
    assert "陈志强" not in rows["members.applicant.name"].digest  # a keyed digest, never the value

    page = desk.client("mj-community").get(f"/desk/applications/{app_id}").get_data(as_text=True)
    assert 'id="provenance"' in page and "自动填入的数据来源" in page and "户籍地址" in page
    assert "获取后被申请人修改" not in page  # positive control: nothing changed yet

    with p.sessions.begin() as s:
        app = s.get(Application, app_id)
        data = copy.deepcopy(app.data)
        data["members"]["applicant"]["hukou_address"] = "广东省梅州市梅江区别的地址1号"
        app.data = data
    page = desk.client("mj-community").get(f"/desk/applications/{app_id}").get_data(as_text=True)
    section = page.split('id="provenance"', 1)[1].split("</section>", 1)[0]
    changed = [row for row in section.split("<tr") if "获取后被申请人修改" in row]
    assert len(changed) == 1 and "户籍地址" in changed[0]
