"""The authorization letter: drawn signatures keep only pixels; the letter PDF names the applicant."""

from __future__ import annotations

import base64
import io
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, PngImagePlugin
from pypdf import PdfReader

from formflow.applications.signing import (
    LETTER_DOCUMENT,
    SignatureRejected,
    authorization_letter_pdf,
    letter_title,
    signature_png,
)
from formflow.documents.pdf import pdf_text
from formflow.packs import load_packs

TODAY = date(2025, 3, 1)
APPLICANT = {"name": "李强", "id_number": "360102198803150018"}
CO_APPLICANTS = [{"name": "张丽", "relation": "配偶", "id_number": "360102199006220022"}]


def _drawing(size=(300, 120), *, mode="RGBA", info: dict | None = None, blank: bool = False) -> bytes:
    image = Image.new(mode, size, (0, 0, 0, 0) if mode == "RGBA" else "white")
    if not blank:
        ImageDraw.Draw(image).line([(10, 100), (120, 20), (200, 90), (290, 30)], fill="black", width=6)
    out = io.BytesIO()
    meta = PngImagePlugin.PngInfo()
    for key, value in (info or {}).items():
        meta.add_text(key, value)
    image.save(out, format="PNG", pnginfo=meta)
    return out.getvalue()


def _url(data: bytes, prefix: str = "data:image/png;base64,") -> str:
    return prefix + base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def manifest(config_root: Path) -> dict:
    """The pinned manifest (as `Pinned.manifest`) of a matter listing the letter among its documents."""
    packset = load_packs(config_root)
    for pack in packset.packs.values():
        for matter in pack.matters.values():
            if any(d.get("id") == LETTER_DOCUMENT for d in matter.entry.get("documents") or []):
                return {k: v for k, v in pack.manifest.content.items() if k != "matters"} | {"matter": matter.entry}
    raise AssertionError("a shipped pack lists the authorization letter among its documents")


def test_signature_is_reencoded_without_metadata() -> None:
    raw = _drawing(info={"Comment": "<script>alert(1)</script>"}) + b"trailing junk"
    png = signature_png(_url(raw))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"script" not in png and b"trailing junk" not in png
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (300, 120)
        assert "Comment" not in image.info and image.mode == "RGBA"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("data:image/svg+xml;base64," + base64.b64encode(b"<svg onload='x'/>").decode(), "只接受 PNG"),
        (_url(b"\xff\xd8\xff\xe0" + b"\x00" * 50, "data:image/jpeg;base64,"), "只接受 PNG"),
        ("https://example.org/sig.png", "只接受 PNG"),
        ("data:image/png;base64,@@@not-base64@@@", "base64"),
        ("data:image/png;base64,", "签名为空"),
        (_url(b"GIF89a" + b"\x00" * 40), "不是有效的 PNG"),
        (_url(_drawing(blank=True)), "签名为空"),
        (_url(_drawing((5000, 10))), "尺寸过大"),
    ],
    ids=["svg", "jpeg", "not-data-url", "bad-base64", "empty", "gif-as-png", "blank", "too-wide"],
)
def test_bad_signatures_are_refused(url: str, words: str) -> None:
    with pytest.raises(SignatureRejected) as caught:
        signature_png(url)
    assert words in caught.value.message


def test_huge_signature_is_refused_before_decoding() -> None:
    with pytest.raises(SignatureRejected, match="过大"):
        signature_png("data:image/png;base64," + "A" * (2 * 1024 * 1024))


def test_signed_letter_names_the_applicant_and_carries_the_signature(manifest: dict) -> None:
    pdf = authorization_letter_pdf(manifest, APPLICANT, CO_APPLICANTS, signature_png(_url(_drawing())), TODAY)
    text = pdf_text(pdf)
    assert "李强" in text and "张丽" in text
    assert "3601**********0018" in text and "360102198803150018" not in text
    assert letter_title(manifest) in text
    assert manifest["matter"]["title"] in text
    assert "2025年3月1日" in text
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert len(page.images) == 1


def test_unsigned_letter_leaves_a_line_to_sign(manifest: dict) -> None:
    pdf = authorization_letter_pdf(manifest, APPLICANT, [], None, TODAY)
    text = pdf_text(pdf)
    assert "李强" in text and "＿" in text
    assert "共同申请人" not in text
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 0


def test_letter_is_deterministic(manifest: dict) -> None:
    signature = signature_png(_url(_drawing()))
    first = authorization_letter_pdf(manifest, APPLICANT, CO_APPLICANTS, signature, TODAY)
    assert first == authorization_letter_pdf(manifest, APPLICANT, CO_APPLICANTS, signature, TODAY)


def test_pack_override_of_the_template_wins(manifest: dict, config_copy: Path) -> None:
    folder = config_copy / "renderers" / manifest["id"] / "documents"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "authorization-letter.html").write_text("<h1>{{ title }}</h1><p>本地版本 {{ applicant_name }}</p>",
                                                      encoding="utf-8")
    pdf = authorization_letter_pdf(manifest, APPLICANT, [], None, TODAY, renderers=config_copy / "renderers")
    assert "本地版本 李强" in pdf_text(pdf)


def test_a_matter_without_the_letter_document_is_a_clear_error() -> None:
    with pytest.raises(LookupError, match=LETTER_DOCUMENT):
        authorization_letter_pdf({"id": "x", "matter": {"id": "m", "documents": []}}, APPLICANT, [], None, TODAY)


def test_the_downloaded_letter_can_be_uploaded_back(manifest: dict) -> None:
    """A citizen may upload the unsigned letter PDF itself (or its scan): it passes the upload checks."""
    from formflow.files.uploads import inspect_upload

    pdf = authorization_letter_pdf(manifest, APPLICANT, CO_APPLICANTS, None, TODAY)
    assert inspect_upload(pdf, "授权书.pdf", limit=10 * 1024 * 1024).media_type == "application/pdf"
