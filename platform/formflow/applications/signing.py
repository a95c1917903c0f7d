"""The authorization letter: signed on screen, or printed, signed and uploaded.

`signature_png` takes the data URL a signature pad posts and keeps nothing but
its pixels: only a base64 PNG is accepted, bounded in bytes and pixels, and
re-encoded by Pillow (no text chunks, no profiles, no trailing bytes).
`authorization_letter_pdf` renders the letter template — without a signature
for the citizen to print and sign by hand, with one for the signed copy.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from formflow.documents.pdf import DOCUMENTS_DIR, render_pdf
from formflow.forms.formats import mask_id_number

PNG_DATA_URL = "data:image/png;base64,"
#: Largest decoded signature, in bytes, and in pixels (a pad is a few hundred pixels wide).
SIGNATURE_BYTES_LIMIT = 512 * 1024
SIGNATURE_PIXEL_LIMIT = 4_000_000
SIGNATURE_SIDE_LIMIT = 4096
#: The letter's template and document id (a pack's `documents` entry with this id gives its title).
LETTER_TEMPLATE = "authorization-letter.html"
LETTER_DOCUMENT = "authorization-letter"


class SignatureRejected(ValueError):
    """The posted signature is not accepted; `message` is shown to the citizen."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def signature_png(data_url: str) -> bytes:
    """The PNG bytes of a drawn signature, re-encoded; `SignatureRejected` otherwise."""
    if not isinstance(data_url, str) or not data_url.startswith(PNG_DATA_URL):
        raise SignatureRejected("签名格式不正确：只接受 PNG 图片（data:image/png;base64,…），请重新签名")
    encoded = data_url[len(PNG_DATA_URL) :]
    if len(encoded) > SIGNATURE_BYTES_LIMIT * 4 // 3 + 4:
        raise SignatureRejected(f"签名图片过大（上限 {SIGNATURE_BYTES_LIMIT // 1024} KB），请重新签名")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRejected("签名数据已损坏（不是有效的 base64），请重新签名") from None
    if not raw:
        raise SignatureRejected("签名为空，请在签名区域内签名")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=["PNG"]) as image:
                width, height = image.size
                if (
                    width > SIGNATURE_SIDE_LIMIT
                    or height > SIGNATURE_SIDE_LIMIT
                    or width * height > SIGNATURE_PIXEL_LIMIT
                ):
                    raise SignatureRejected(f"签名图片尺寸过大（{width}×{height} 像素），请重新签名")
                pixels = image.convert("RGBA")
    except SignatureRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise SignatureRejected("签名图片尺寸过大，请重新签名") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise SignatureRejected("签名不是有效的 PNG 图片，请重新签名") from None
    if _blank(pixels):
        raise SignatureRejected("签名为空，请在签名区域内签名")
    clean = Image.frombytes("RGBA", pixels.size, pixels.tobytes())  # only pixels are copied, no metadata
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _blank(image: Image.Image) -> bool:
    """True when nothing is drawn: fully transparent, or one flat colour."""
    on_white = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image).convert("L")
    low, high = on_white.getextrema()
    return high - low < 16


def _masked(person: Mapping[str, Any]) -> str:
    if person.get("id_number_masked"):
        return str(person["id_number_masked"])
    number = person.get("id_number")
    return mask_id_number(str(number)) if number else ""


def letter_title(pinned_manifest: Mapping[str, Any]) -> str:
    """The letter's title as the pack's matter lists it among its documents (id `authorization-letter`)."""
    matter = pinned_manifest.get("matter") or {}
    for document in matter.get("documents") or []:
        if isinstance(document, Mapping) and document.get("id") == LETTER_DOCUMENT and document.get("title"):
            return str(document["title"])
    raise LookupError(
        f"事项 {matter.get('id')!r} 的 documents 中没有 id 为 {LETTER_DOCUMENT!r} 的文书，无法生成授权书"
    )


def template_dirs(pinned_manifest: Mapping[str, Any], renderers: Path | None = None) -> list[Path]:
    """Where the letter template is looked up: the pack's override first."""
    root = renderers or DOCUMENTS_DIR.parent
    folders = [root / "documents"]
    pack = pinned_manifest.get("id")
    if isinstance(pack, str) and pack:
        folders.insert(0, root / pack / "documents")
    return folders


def authorization_letter_pdf(
    pinned_manifest: Mapping[str, Any],
    applicant: Mapping[str, Any],
    co_applicants: Sequence[Mapping[str, Any]],
    signature_png: bytes | None,
    today: date,
    *,
    application_no: str | None = None,
    verifier: str | None = None,
    extra_promises: Sequence[str] = (),
    renderers: Path | None = None,
) -> bytes:
    """The letter as PDF: unsigned (a line to sign on) when `signature_png` is None.

    `pinned_manifest` is `Pinned.manifest` (pack id, and the matter's title and
    documents); `applicant` and each co-applicant give `name` and `id_number`
    (masked here) and co-applicants a `relation`. `signature_png` must come
    from `signature_png()`.
    """
    matter = pinned_manifest.get("matter") or {}
    context: dict[str, Any] = {
        "applicant_name": str(applicant.get("name") or ""),
        "id_number_masked": _masked(applicant),
        "matter_title": str(matter.get("title") or ""),
        "co_applicants": [
            {"name": str(p.get("name") or ""), "relation": str(p.get("relation") or ""),
             "id_number_masked": _masked(p)}
            for p in co_applicants
        ],
        "extra_promises": list(extra_promises),
    }
    if application_no:
        context["application_no"] = application_no
    if verifier:
        context["verifier"] = verifier
    images = {"signature": signature_png} if signature_png else None
    return render_pdf(
        template_dirs(pinned_manifest, renderers),
        LETTER_TEMPLATE,
        context,
        title=letter_title(pinned_manifest),
        images=images,
        issued_on=today,
    )


__all__ = [
    "SignatureRejected",
    "authorization_letter_pdf",
    "letter_title",
    "signature_png",
    "template_dirs",
]
