"""Every notice of both shipped packs, rendered with its pack settings and read back.

Checks what a person handed the paper would notice: the number in the GB/T 9704 style
(no leading zeros), the issuing office, contact line, seal area and date, the remedy
clause on every refusal, the working-day deadline and consequence on the 补正告知书,
no doubled words, and rare characters of names (CJK Ext. A/B) present in the text.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path

import pytest

from formflow.documents import fonts, notices
from formflow.documents import pdf as d
from formflow.text.errors import Refusal

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / "workflows").glob("*/*.yaml"))
REFUSALS = {"documents/non-acceptance.html", "documents/ineligible.html", "documents/termination.html"}
NAME = "刘䶮𪚥"
DOUBLED = re.compile(r"([\u4e00-\u9fff]{2,})\1")


@lru_cache(maxsize=1)
def _packs():
    from formflow.packs import load_packs

    return load_packs(ROOT)


def effective(path: Path) -> dict:
    """The workflow as the loader holds it (a child pack's overlay merged over its parent's workflow)."""
    return _packs().packs[path.parent.name].matters[path.stem].workflow.content


def cases() -> list[tuple[str, str]]:
    out = []
    for path in WORKFLOWS:
        for notice_id in (effective(path).get("notices") or {}):
            out.append((str(path.relative_to(ROOT)), notice_id))
    return out


def flat(text: str) -> str:
    return "".join(text.split())


def render(rel: str, notice_id: str, **extra) -> tuple[dict, str, str]:
    workflow = effective(ROOT / rel)
    spec = workflow["notices"][notice_id]
    number = d.format_number(spec["number"], year=2026, seq=1)
    context = {
        "office_name": "某某街道办事处", "applicant_name": NAME, "matter_title": "公共租赁住房申请",
        "application_no": "A2026-7", "submitted_on": date(2026, 2, 20), "reason": "家庭人均收入超过标准。",
        "missing": [{"title": "户口簿", "requirement": "全部家庭成员页复印件"}, {"title": "收入证明"}],
        "deadline": None, "time_limit": "90个工作日", "details": [],
        **notices.notice_settings(workflow, notice_id), **extra,
    }
    dirs, name = notices.template_dirs(ROOT / "renderers", rel.split("/")[1], spec["template"])
    data = d.render_pdf(dirs, name, context, title=spec["title"], number=number, issued_on=date(2026, 3, 2))
    return spec, number, flat(d.pdf_text(data))


def test_both_packs_have_notices() -> None:
    packs = {rel.split("/")[1] for rel, _ in cases()}
    assert packs == {"jiangxi", "jiangxi-nanchang", "meizhou-meijiang"}


@pytest.mark.parametrize(("rel", "notice_id"), cases())
def test_notice_is_fit_to_hand_out(rel: str, notice_id: str) -> None:
    spec, number, text = render(rel, notice_id)
    assert re.fullmatch(r".+〔2026〕1号", number), number  # GB/T 9704: no leading zeros
    for needle in (spec["title"], number, "某某街道办事处", "2026年3月2日", "（印章）", "联系方式：", NAME):
        assert flat(needle) in text, needle
    assert "刘䶮" in text and "𪚥" in text
    assert not DOUBLED.search(text), DOUBLED.search(text)
    if spec["template"] in REFUSALS:
        assert "申请行政复议" in text and "提起行政诉讼" in text, "remedy clause"
        assert re.search(r"60日内向.+申请行政复议", text) and "6个月内向" in text
    else:
        assert "行政复议" not in text


@pytest.mark.parametrize("rel", sorted({r for r, n in cases() if n == "correction"}))
def test_correction_names_items_deadline_and_consequence(rel: str) -> None:
    _spec, _number, text = render(rel, "correction", deadline=date(2026, 3, 9))
    assert "户口簿：全部家庭成员页复印件" in text and "收入证明" in text
    assert "自收到本告知书之日起5个工作日内（2026年3月9日前）" in text
    assert "逾期未补正的" in text


def test_city_refusal_names_the_city_government_and_street_refusal_the_district() -> None:
    rel = "workflows/meizhou-meijiang/public-rental-housing.yaml"
    _s, city_no, city = render(rel, "ineligible")
    _s, street_no, street = render(rel, "ineligible-street")
    assert city_no.startswith("梅市") and "向梅州市人民政府申请行政复议" in city
    assert not street_no.startswith("梅市") and "向梅江区人民政府申请行政复议" in street


def test_every_refusal_stage_uses_a_notice_with_a_remedy() -> None:
    for path in WORKFLOWS:
        workflow = effective(path)
        for notice_id, spec in (workflow.get("notices") or {}).items():
            if spec["template"] in REFUSALS:
                remedy = notices.notice_settings(workflow, notice_id)["remedy"]
                assert remedy and remedy["review_body"] and remedy["court"], (path.name, notice_id)


def test_a_glyph_no_font_has_is_refused_loudly(monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture) -> None:
    rel = "workflows/meizhou-meijiang/public-rental-housing.yaml"
    monkeypatch.setenv(fonts.FALLBACK_ENV, "")
    with pytest.raises(Refusal) as caught:
        render(rel, "acceptance")
    assert caught.value.code == "document.glyph_missing"
    assert "U+2A6A5" in caught.value.message and "U+4DAE" in caught.value.message
    assert "U+2A6A5" in caplog.text
    # positive control: the same notice without the rare characters prints
    _spec, _number, text = render(rel, "acceptance", applicant_name="刘岩")
    assert "刘岩" in text
