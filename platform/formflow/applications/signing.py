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
from typing import Any, cast

from PIL import Image, UnidentifiedImageError

from formflow.documents.pdf import DOCUMENTS_DIR, render_pdf
from formflow.forms.formats import mask_id_number
from formflow.packs.inherit import lineage
from formflow.text.catalogue import _
from formflow.text.errors import Refusal

PNG_DATA_URL = "data:image/png;base64,"
#: What a drawn signature in form data starts with (any image data URL is checked as a signature).
SIGNATURE_PREFIX = "data:image/"
#: Largest decoded signature, in bytes, and in pixels (a pad is a few hundred pixels wide).
SIGNATURE_BYTES_LIMIT = 512 * 1024
SIGNATURE_PIXEL_LIMIT = 4_000_000
SIGNATURE_SIDE_LIMIT = 4096
#: The letter's template and document id (a pack's `documents` entry with this id gives its title).
LETTER_TEMPLATE = "authorization-letter.html"
LETTER_DOCUMENT = "authorization-letter"


class SignatureRejected(Refusal, ValueError):
    """The posted signature is not accepted; `message` is shown to the citizen."""

    code = "signature_rejected"
    status = 422


def signature_png(data_url: str) -> bytes:
    """The PNG bytes of a drawn signature, re-encoded; `SignatureRejected` otherwise."""
    if not isinstance(data_url, str) or not data_url.startswith(PNG_DATA_URL):
        raise SignatureRejected(_("The signature has the wrong format: only a PNG image (data:image/png;base64,…) "
                                  "is accepted; please sign again"))
    encoded = data_url[len(PNG_DATA_URL) :]
    if len(encoded) > SIGNATURE_BYTES_LIMIT * 4 // 3 + 4:
        raise SignatureRejected(_("The signature image is too large (the limit is %(kb)s KB); please sign again",
                                  kb=SIGNATURE_BYTES_LIMIT // 1024))
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRejected(_("The signature data is damaged (not valid base64); please sign again")) from None
    if not raw:
        raise SignatureRejected(_("The signature is empty; please sign inside the signature area"))
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
                    raise SignatureRejected(_("The signature image is too large (%(width)s×%(height)s pixels); "
                                              "please sign again", width=width, height=height))
                pixels = image.convert("RGBA")
    except SignatureRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise SignatureRejected(_("The signature image is too large; please sign again")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise SignatureRejected(_("The signature is not a valid PNG image; please sign again")) from None
    if _blank(pixels):
        raise SignatureRejected(_("The signature is empty; please sign inside the signature area"))
    clean = Image.frombytes("RGBA", pixels.size, pixels.tobytes())  # only pixels are copied, no metadata
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)
    return out.getvalue()


def signature_data_url(data_url: str) -> str:
    """The stored form of a drawn signature: the data URL of its re-encoded PNG (`SignatureRejected` otherwise)."""
    return PNG_DATA_URL + base64.b64encode(signature_png(data_url)).decode("ascii")


def signature_problems(data: Any) -> list[tuple[str, str]]:
    """(JSON pointer, message) of every drawn signature in form data that `signature_png` refuses.

    The one signature check of every channel: the portal's signature pad posts through it, and a
    signature arriving inside form data (the API saving a step, a draft saved whole) is checked the
    same way at save and at submit, so an 8-byte "PNG" is refused everywhere alike.
    """
    out: list[tuple[str, str]] = []
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, Mapping):
            stack.extend((v, (*path, str(k))) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*path, str(i))) for i, v in enumerate(node))
        elif isinstance(node, str) and node.startswith(SIGNATURE_PREFIX):
            try:
                signature_png(node)
            except SignatureRejected as exc:
                out.append(("/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path), exc.message))
    return sorted(out)


def _blank(image: Image.Image) -> bool:
    """True when nothing is drawn: fully transparent, or one flat colour."""
    on_white = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image).convert("L")
    low, high = cast(tuple[int, int], on_white.getextrema())  # one band ("L"): its (min, max)
    return high - low < 16


def _masked(person: Mapping[str, Any]) -> str:
    if person.get("id_number_masked"):
        return str(person["id_number_masked"])
    number = person.get("id_number")
    return mask_id_number(str(number)) if number else ""


def letter_title(pinned_manifest: Mapping[str, Any], document_id: str = LETTER_DOCUMENT) -> str:
    """The title of the signed document (default `authorization-letter`) as the pack's matter lists it."""
    matter = pinned_manifest.get("matter") or {}
    for document in matter.get("documents") or []:
        if isinstance(document, Mapping) and document.get("id") == document_id and document.get("title"):
            return str(document["title"])
    raise LookupError(_("Matter %(matter)s lists no document with id %(document)s among its documents; the "
                        "authorization letter cannot be made", matter=repr(matter.get("id")),
                        document=repr(document_id)))


def letter_template(document_id: str = LETTER_DOCUMENT) -> str:
    """The template of a signed document: `authorization-letter.html`, or `<document id>.html` (x-document)."""
    return LETTER_TEMPLATE if document_id == LETTER_DOCUMENT else f"{document_id}.html"


def template_dirs(pinned_manifest: Mapping[str, Any], renderers: Path | None = None) -> list[Path]:
    """Where the letter template is looked up: the pack's override first."""
    root = renderers or DOCUMENTS_DIR.parent
    folders = [root / "documents"]
    packs = [pinned_manifest.get("id"), *lineage(dict(pinned_manifest))]  # a city, then its province
    return [root / p / "documents" for p in packs if isinstance(p, str) and p] + folders


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
    document: str = LETTER_DOCUMENT,
) -> bytes:
    """The letter as PDF: unsigned (a line to sign on) when `signature_png` is None.

    `document`: the id of the matter's document the signature field signs (its `x-document`).

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
        letter_template(document),
        context,
        title=letter_title(pinned_manifest, document),
        images=images,
        issued_on=today,
    )


__all__ = [
    "SignatureRejected",
    "authorization_letter_pdf",
    "letter_title",
    "signature_data_url",
    "signature_png",
    "signature_problems",
    "template_dirs",
]
