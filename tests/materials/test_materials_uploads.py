"""Uploads are judged by content: JPEG, PNG and clean PDFs in; everything else out, with the file named."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from fpdf import FPDF
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from formflow.files.uploads import (
    DISPLAY_NAME_LIMIT,
    InspectedFile,
    UploadRejected,
    inspect_upload,
    safe_display_name,
)

LIMIT = 10 * 1024 * 1024


def _image(fmt: str, size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def _pdf(text: str = "hello") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(40, 10, text)
    return bytes(pdf.output())


def _pdf_with(change) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _rejected(data: bytes, name: str, **kwargs) -> str:
    with pytest.raises(UploadRejected) as caught:
        inspect_upload(data, name, limit=kwargs.pop("limit", LIMIT), **kwargs)
    message = caught.value.message
    assert f"“{safe_display_name(name)}”" in message
    return message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_image("PNG"), InspectedFile("image/png", "png", 0)),
        (_image("JPEG"), InspectedFile("image/jpeg", "jpg", 0)),
        (_pdf(), InspectedFile("application/pdf", "pdf", 0)),
    ],
    ids=["png", "jpeg", "pdf"],
)
def test_real_files_are_accepted_whatever_their_name(data: bytes, expected: InspectedFile) -> None:
    for name in ("scan.jpg", "证明.pdf", "noextension", "../../etc/passwd"):
        found = inspect_upload(data, name, limit=LIMIT)
        assert (found.media_type, found.extension, found.size) == (expected.media_type, expected.extension, len(data))


def test_elf_renamed_pdf_is_refused() -> None:
    elf = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
    message = _rejected(elf, "setup.pdf")
    assert message.startswith("文件“setup.pdf”不是有效的 PDF 或图片，已拒绝")


def test_exe_renamed_jpg_is_refused() -> None:
    _rejected(b"MZ\x90\x00\x03" + b"\x00" * 300, "photo.jpg")


def test_zip_renamed_pdf_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.txt", "hello")
    _rejected(out.getvalue(), "证明.pdf")


def test_pdf_with_document_javascript_is_refused() -> None:
    def add_js(writer: PdfWriter) -> None:
        action = writer._add_object(DictionaryObject({
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('hi');"),
        }))
        names = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("init"), action])})
        writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): names})

    message = _rejected(_pdf_with(add_js), "invoice.pdf")
    assert "JavaScript" in message


def test_pdf_with_hidden_javascript_in_an_open_action_is_refused() -> None:
    """The name spelled with #xx escapes, so no search of the raw bytes finds it: the parsed objects still show it."""

    def open_action(writer: PdfWriter) -> None:
        action = DictionaryObject({
            NameObject("/Type"): NameObject("/Action"),
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert(1)"),
        })
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)

    data = _pdf_with(open_action).replace(b"/JavaScript", b"/J#61vaScript")
    assert b"/JavaScript" not in data
    _rejected(data, "x.pdf")


def test_pdf_with_launch_action_is_refused() -> None:
    def launch(writer: PdfWriter) -> None:
        action = DictionaryObject({
            NameObject("/S"): NameObject("/Launch"),
            NameObject("/F"): TextStringObject("cmd.exe"),
        })
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)

    _rejected(_pdf_with(launch), "launch.pdf")


def test_truncated_or_fake_pdf_is_refused() -> None:
    assert "不是有效的 PDF" in _rejected(b"%PDF-1.7\n garbage that is no pdf", "fake.pdf")
    assert "不是有效的 PDF" in _rejected(_pdf()[:60], "cut.pdf")


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG claiming a huge size: a decompression bomb's header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [10_000, 30_000, 100_000])
def test_pixel_bomb_png_is_refused(side: int) -> None:
    data = _png_header_only(side, side)
    assert len(data) < 2000
    assert "尺寸过大" in _rejected(data, "bomb.png")


def test_pixel_limit_is_a_parameter() -> None:
    data = _image("PNG", (100, 100))
    assert "尺寸过大" in _rejected(data, "big.png", pixel_limit=5_000)
    assert inspect_upload(data, "ok.png", limit=LIMIT, pixel_limit=10_000).media_type == "image/png"


def test_broken_images_are_refused() -> None:
    assert "不是有效的 PNG" in _rejected(_image("PNG")[:40], "cut.png")
    assert "不是有效的 JPEG" in _rejected(b"\xff\xd8\xff\xe0" + b"\x00" * 100, "cut.jpg")


def test_empty_file_is_refused() -> None:
    assert "空文件" in _rejected(b"", "empty.pdf")


def test_oversized_file_is_refused() -> None:
    data = _image("PNG")
    message = _rejected(data, "big.png", limit=len(data) - 1)
    assert "超过大小上限" in message


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("C:\\Users\\me\\证明.pdf", "证明.pdf"),
        ("../../etc/passwd", "passwd"),
        ("a\x00b\r\nc.pdf", "abc.pdf"),
        ("a\u3000 \t b.pdf", "a b.pdf"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("   ", "未命名文件"),
        ("..", "未命名文件"),
        (None, "未命名文件"),
    ],
)
def test_safe_display_name(raw, shown: str) -> None:
    assert safe_display_name(raw) == shown


def test_long_display_name_keeps_its_extension() -> None:
    name = safe_display_name("很长" * 200 + ".pdf")
    assert len(name) <= DISPLAY_NAME_LIMIT
    assert name.endswith(".pdf")
    assert "/" not in safe_display_name("a/b/" * 100)
