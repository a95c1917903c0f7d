"""Notice PDFs: Chinese text reads back, escaping, images, determinism, numbering, overrides."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import jinja2
import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw
from pypdf import PdfReader

from formflow.documents import pdf as d

DIRS = [d.DOCUMENTS_DIR]
ISSUED = date(2025, 3, 1)
NUMBER = d.format_number("某房受〔{year}〕{seq:04d}号", year=2025, seq=7)
BASE = {
    "office_name": "某某区住房保障服务中心",
    "applicant_name": "欧阳小燕",
    "matter_title": "公共租赁住房保障",
    "application_no": "A2025-00012",
    "submitted_on": "2025-02-20",
    "issued_on": ISSUED,
    "seal_note": "（盖章）",
}
NOTICES = {
    "acceptance.html": ("受理通知书", {"time_limit": "20个工作日"}),
    "non-acceptance.html": ("不予受理通知书", {"reason": "申请人户籍不在本辖区。"}),
    "correction.html": (
        "材料补正告知书",
        {
            "deadline": "2025-03-10",
            "missing": [
                {"title": "户口簿", "requirement": "全部家庭成员页复印件"},
                {"title": "收入证明", "requirement": "近十二个月"},
                {"title": "婚姻状况证明"},
            ],
        },
    ),
    "eligible.html": ("符合住房保障条件通知书", {"details": [{"label": "家庭人口", "value": "3人"}]}),
    "ineligible.html": ("不符合住房保障条件通知书", {"reason": "家庭人均收入超过标准。"}),
}


def flat(text: str) -> str:
    """Text without whitespace: line wrapping may fall anywhere."""
    return "".join(text.split())


def render(name: str, context: dict | None = None, **kwargs) -> bytes:
    title, extra = NOTICES.get(name, ("授权承诺书", {}))
    kwargs.setdefault("title", title)
    kwargs.setdefault("number", NUMBER)
    return d.render_pdf(DIRS, name, {**BASE, **extra, **(context or {})}, **kwargs)


@pytest.fixture(scope="module")
def signature() -> bytes:
    img = Image.new("RGBA", (400, 150), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([(10, 100), (120, 30), (250, 120), (390, 40)], fill="black", width=6)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("name", sorted(NOTICES))
def test_notice_text_reads_back(name: str) -> None:
    title, extra = NOTICES[name]
    text = flat(d.pdf_text(render(name)))
    for needle in (title, "欧阳小燕", NUMBER, "某某区住房保障服务中心", "公共租赁住房保障",
                   "A2025-00012", "2025年3月1日", "经审"):
        assert flat(needle) in text, needle
    assert text.startswith(title)


def test_correction_lists_every_missing_material() -> None:
    text = flat(d.pdf_text(render("correction.html")))
    for item in NOTICES["correction.html"][1]["missing"]:
        assert item["title"] in text
        assert item.get("requirement", "") in text
    assert "2025年3月10日前" in text


@pytest.mark.parametrize("name", ["non-acceptance.html", "ineligible.html"])
def test_reason_is_printed(name: str) -> None:
    assert NOTICES[name][1]["reason"] in flat(d.pdf_text(render(name)))


def test_typed_text_is_never_markup() -> None:
    evil = '<script>alert("x")</script><b>王五</b>&amp;'
    html = d.render_html(DIRS, "non-acceptance.html",
                         {**BASE, "applicant_name": evil, "reason": "<h1>大标题</h1>",
                          "title": "不予受理通知书", "number": None, "issued_on": ISSUED,
                          "cid": frozenset()})
    assert "<script>" not in html and "&lt;script&gt;" in html
    text = d.pdf_text(render("non-acceptance.html",
                             {"applicant_name": evil, "reason": "<h1>大标题</h1>"}))
    assert flat(evil) in flat(text)
    assert "<h1>大标题</h1>" in flat(text)


def test_authorization_letter_with_signature(signature: bytes) -> None:
    context = {
        "id_number_masked": "4414**********1234",
        "co_applicants": [
            {"name": "李四", "relation": "配偶", "id_number_masked": "4414**********5678"},
            {"name": "李小明", "relation": "子女", "id_number_masked": "4414**********0011"},
        ],
    }
    pdf = render("authorization-letter.html", context, images={"signature": signature})
    text = flat(d.pdf_text(pdf))
    for needle in ("授权承诺书", "欧阳小燕", "4414**********1234", "李四", "配偶",
                   "李小明", "4414**********0011", "收入、财产、住房", "2025年3月1日"):
        assert needle in text, needle
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) >= 1


def test_authorization_letter_without_signature_leaves_a_line() -> None:
    pdf = render("authorization-letter.html", {"id_number_masked": "4414**********1234"})
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 0
    assert "申请人（签名）：＿＿" in flat(d.pdf_text(pdf))
    assert "共同申请人" not in flat(d.pdf_text(pdf))


def test_same_input_same_bytes(signature: bytes) -> None:
    args = ("authorization-letter.html", {"id_number_masked": "4414**********1234"})
    first = render(*args, images={"signature": signature})
    assert render(*args, images={"signature": signature}) == first
    assert render(*args, images={"signature": signature}, issued_on="2025-03-02") != first
    assert render("correction.html") == render("correction.html")


def test_metadata_and_creation_date() -> None:
    meta = PdfReader(io.BytesIO(render("acceptance.html"))).metadata
    assert meta.title == "受理通知书"
    assert meta.subject == NUMBER
    assert meta.creation_date.date() == ISSUED


def test_issued_on_is_required() -> None:
    with pytest.raises(ValueError, match="issued_on"):
        d.render_pdf(DIRS, "acceptance.html", {**BASE, "issued_on": None}, title="受理通知书")
    with pytest.raises(ValueError, match="'soon'"):
        render("acceptance.html", issued_on="soon")


def test_missing_required_key_is_an_error() -> None:
    context = dict(BASE)
    del context["applicant_name"]
    with pytest.raises(jinja2.UndefinedError, match="applicant_name"):
        d.render_pdf(DIRS, "acceptance.html", context, title="受理通知书")


def test_long_text_flows_onto_more_pages() -> None:
    reason = "因家庭收入、财产、住房情况核查未通过，" * 120 + "结束。"
    pdf = render("non-acceptance.html", {"reason": reason})
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 2
    text = flat(d.pdf_text(pdf))
    body = re.sub(re.escape(NUMBER) + r"—\d+—2025年3月1日", "", text)
    assert flat(reason) in body


def test_no_line_starts_with_closing_punctuation() -> None:
    pdf = FPDF()
    pdf.add_font("f", "", str(d.resolve_font()))
    pdf.set_font("f", size=14)
    text = "申请材料齐全，符合法定形式。（备注）" * 40
    for avail in (50.0, 73.0, 101.0, 150.0):
        for start, end, _ in d._break_lines(pdf, text, avail):
            assert text[start] not in d._NO_START
            assert text[end - 1] not in d._NO_END
            assert pdf.get_string_width(text[start:end]) <= avail + 0.01


def test_override_dir_wins(tmp_path: Path) -> None:
    (tmp_path / "acceptance.html").write_text(
        '{% extends "_notice.html" %}{% block body %}<p>本地模板：{{ matter_title }}</p>{% endblock %}',
        encoding="utf-8",
    )
    dirs = [tmp_path, d.DOCUMENTS_DIR]
    text = flat(d.pdf_text(d.render_pdf(dirs, "acceptance.html", BASE, title="受理通知书")))
    assert "本地模板：公共租赁住房保障" in text and "予以受理" not in text
    other = d.render_pdf(dirs, "ineligible.html", {**BASE, "reason": "无"}, title="不符合")
    assert "不符合条件" in flat(d.pdf_text(other))


def test_images_are_only_the_given_ones(tmp_path: Path, signature: bytes) -> None:
    (tmp_path / "a.html").write_text('<p>x</p><img src="cid:stamp">', encoding="utf-8")
    (tmp_path / "b.html").write_text('<img src="/etc/passwd">', encoding="utf-8")
    with pytest.raises(ValueError, match="'stamp'"):
        d.render_pdf([tmp_path], "a.html", BASE, title="t", images={"signature": signature})
    with pytest.raises(ValueError, match="/etc/passwd"):
        d.render_pdf([tmp_path], "b.html", BASE, title="t")
    with pytest.raises(ValueError, match="'stamp' is not a readable image"):
        d.render_pdf([tmp_path], "a.html", BASE, title="t", images={"stamp": b"not a png"})


def test_unsupported_tag_in_template_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text("<p>x</p><iframe></iframe>", encoding="utf-8")
    with pytest.raises(ValueError, match="iframe"):
        d.render_pdf([tmp_path], "a.html", BASE, title="t")


def test_font_path_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(d.FONT_ENV, str(tmp_path / "none.ttf"))
    with pytest.raises(FileNotFoundError, match="none.ttf"):
        render("acceptance.html")
    assert "受理通知书" in d.pdf_text(render("acceptance.html", font_path=d.DEFAULT_FONT))
    monkeypatch.setenv(d.FONT_ENV, str(d.DEFAULT_FONT))
    assert d.resolve_font() == d.DEFAULT_FONT


def test_shipped_font_is_small_and_licensed() -> None:
    assert d.DEFAULT_FONT.stat().st_size < 10 * 1024 * 1024
    assert "Apache License" in (d.DEFAULT_FONT.parent / "LICENSE").read_text(encoding="utf-8")


def test_format_number() -> None:
    assert NUMBER == "某房受〔2025〕0007号"
    assert d.format_number("{year}-{seq:05d}", year=2025, seq=12) == "2025-00012"
    assert d.format_number("{office}〔{year}〕{seq}号", year=2025, seq=3, office="X") == "X〔2025〕3号"
    assert d.format_number("{{{year}}}", year=2025, seq=1) == "{2025}"


@pytest.mark.parametrize("pattern", ["{year}-{serial}", "{year.__class__}", "{}", "{0}",
                                     "{seq[0]}", "{seq:{year}}", "{year", "{seq:xyz}"])
def test_format_number_rejects_bad_patterns(pattern: str) -> None:
    with pytest.raises(ValueError) as err:
        d.format_number(pattern, year=2025, seq=1)
    assert repr(pattern) in str(err.value)


def test_cn_date() -> None:
    assert d.cn_date("2025-03-01") == "2025年3月1日"
    assert d.cn_date(date(2024, 12, 31)) == "2024年12月31日"
    with pytest.raises(ValueError, match="'tomorrow'"):
        d.cn_date("tomorrow")
