"""The desk's application page with `Accept-Language: en`: every word is English but the packs' own texts.

Pack texts (stage, table, row and field titles, enum titles, office names), the citizen's own data and
the records written in the authority's language (history notes, objections) stay as they are; everything
else — the stage part (marking table, objections, actions), the refusals the engine gives as reasons,
the layout — comes from the catalogue. In Chinese the page reads exactly as before.
"""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

from desk_support import MZ, app_row, create, marking_form, not_applicable, table_of
from sqlalchemy import select
from test_desk_review import _act, _mark, _page

from formflow.db.models import (
    Account,
    Application,
    ApplicationFile,
    Event,
    Notice,
    Objection,
    Office,
    ReviewMarking,
)
from formflow.packs.versions import load_pinned

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "i18n"))
from test_locale import CJK, visible_text  # noqa: E402

START = date(2026, 3, 2)
EN = {"Accept-Language": "en"}
STAGE = "community_acceptance"


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {s for k, v in value.items() for s in _strings(k) | _strings(v)}
    if isinstance(value, (list, tuple)):
        return {s for v in value for s in _strings(v)}
    return set()


def _not_ours(p, app_id: int) -> list[str]:
    """Texts the platform does not own on this application's page, longest first."""
    with p.sessions() as s:
        app = s.get(Application, app_id)
        texts = _strings(load_pinned(s, app.versions).documents) | _strings(app.data)
        texts |= {o.name for o in s.scalars(select(Office))}
        texts |= {a.display_name for a in s.scalars(select(Account))}
        texts |= {e.note for e in s.scalars(select(Event).where(Event.application_id == app_id)) if e.note}
        texts |= {o.note for o in s.scalars(select(Objection).where(Objection.application_id == app_id))}
        texts |= {t for m in s.scalars(select(ReviewMarking).where(ReviewMarking.application_id == app_id))
                  for t in _strings(m.marking)}
        texts |= {t for n in s.scalars(select(Notice).where(Notice.application_id == app_id))
                  for t in (n.title, n.number)}
        texts |= {f.original_name for f in s.scalars(select(ApplicationFile).where(
            ApplicationFile.application_id == app_id)) if f.original_name}
    return sorted((t for t in texts if t and CJK.search(t)), key=len, reverse=True)


def chinese_left(p, app_id: int, html: str) -> list[str]:
    text = visible_text(html, "en")
    for known in _not_ours(p, app_id):
        text = text.replace(known, " ")
    return [line for line in text.splitlines() if CJK.search(line)]


def test_the_application_page_at_a_review_stage_reads_in_english(desk):
    app_id = create(desk.p, MZ, today=START, category="low-income", with_file=True)
    clerk = desk.client("mj-community")
    posted = marking_form(table_of(desk.p, app_id, STAGE), fail=("2", 0), note="缺少户口簿复印件",
                          na=not_applicable(desk.p, app_id, STAGE))
    saved = clerk.post(f"/desk/applications/{app_id}/stages/{STAGE}/marking", posted,
                       token_from=f"/desk/applications/{app_id}", headers=EN)
    assert saved.status_code == 302
    response = clerk.get(f"/desk/applications/{app_id}", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and '<html lang="en">' in html
    assert chinese_left(desk.p, app_id, html) == []
    text = visible_text(html, "en")
    for words in ("Review table saved; outcome: Fail", "This stage: ", "Review outcome:", "Fail", "What is required",
                  "Why it does not meet them",
                  "(required when “Does not meet” is chosen)", "Save the review table", "Take action",
                  "The review table's outcome is “Fail”; this action needs “Pass”.", "To handle"):
        assert words in text, words
    # the page's script reads its live words from the page, in the reader's language
    assert 'data-fail="({done}/{total} chosen, now “Fail”; takes effect once saved)"' in html


def test_the_application_page_at_the_public_notice_reads_in_english(desk):
    app_id = create(desk.p, MZ, today=START, category="low-income", with_file=True)
    community = desk.client("mj-community")
    assert _mark(desk, community, app_id, STAGE).status_code == 302
    assert _act(community, app_id, STAGE, "accept", confirmed=True).status_code == 302
    desk.today = date(2026, 3, 4)
    street = desk.client("mj-street")
    assert _mark(desk, street, app_id, "street_review").status_code == 302
    assert _act(street, app_id, "street_review", "approve", confirmed=True).status_code == 302
    assert app_row(desk.p, app_id).stages == ["public_notice"]
    _page(street, app_id)  # the flash of the (Chinese) approval is read here
    html = street.get(f"/desk/applications/{app_id}", headers=EN).get_data(as_text=True)
    text = visible_text(html, "en")
    assert "No objection so far in the public notice period" in text and "Record an objection" in text
    assert chinese_left(desk.p, app_id, html) == []
    recorded = street.post(f"/desk/applications/{app_id}/stages/public_notice/objections",
                           {"note": "群众反映申请人有车辆", "expected_version": str(app_row(desk.p, app_id).version)},
                           token_from=f"/desk/applications/{app_id}", headers=EN)
    assert recorded.status_code == 302
    html = street.get(f"/desk/applications/{app_id}", headers=EN).get_data(as_text=True)
    text = visible_text(html, "en")
    assert "Objection recorded; it must be verified before the notice period ends." in text
    assert "To be verified" in text and "The objection does not hold" in text
    assert chinese_left(desk.p, app_id, html) == []
    chinese = _page(street, app_id)
    assert "待核实" in chinese and "<h3>公示异议</h3>" in chinese and ">异议不成立</button>" in chinese


def test_the_application_page_in_chinese_keeps_its_words(desk):
    app_id = create(desk.p, MZ, today=START, category="low-income")
    html = _page(desk.client("mj-community"), app_id)
    for words in ("<h2>本环节：", "审查结论：", '<span class="hint">尚未填写</span>', "<dt>审查要求</dt>",
                  '不符合的说明<span class="hint">（选择“不符合”时必填）</span>', "审查意见（可选）",
                  ">全部符合</button>",
                  ">保存审查表</button>", "<h3>办理</h3>", 'id="nav-queue">待办</a>',
                  'data-open="（已选 {done}/{total}，保存后生效）"',
                  "本申请无须提交此材料，可标为“不适用”。"):
        assert words in html, words
    assert re.search(r'id="why-community_acceptance-accept">尚未填写本环节的审查表《[^》]+》</span>', html)
