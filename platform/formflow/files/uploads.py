"""Inspect an uploaded file before it is stored: decide by content, never by name.

Accepted: JPEG, PNG and PDF. The type comes from the file's first bytes; the
name a browser sent is only ever shown (`safe_display_name`), never used for a
path or a type. Images are opened with Pillow under a pixel limit (a small
file that decodes to gigapixels is refused before it is decoded) and decoded
in full, and must end where the file ends (nothing appended after PNG's IEND
chunk or JPEG's EOI marker: `image_end`, a hand-written walk of the chunk and
marker structure, since Pillow stops reading at the end and says nothing of
what follows). PDFs are parsed with pypdf and refused when unreadable,
encrypted, too complex (pypdf's own decompression limits), carrying JavaScript
or a launch action anywhere in their objects, a form submission, data import,
remote go-to, XFA form, embedded files or rich media, an automatic (open or
additional) action opening an address, or anything but whitespace after the
last `%%EOF`.
Every refusal is an `UploadRejected` with a Chinese message naming the file.
"""

from __future__ import annotations

import io
import logging
import mmap
import re
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from PIL import Image, UnidentifiedImageError

from formflow.files.buffers import Buffer
from formflow.text.catalogue import _
from formflow.text.errors import Refusal

if TYPE_CHECKING:  # pypdf (≈ 8 MiB) is imported by the first PDF upload
    from pypdf import PdfReader
    from pypdf.generic import DictionaryObject

#: Largest image accepted, in pixels (width × height): 50 megapixels, a 8K photo is 33.
PIXEL_LIMIT = 50_000_000
#: Most PDF objects (dictionaries, arrays, references) walked before a file is refused as too complex.
PDF_OBJECT_LIMIT = 500_000
DISPLAY_NAME_LIMIT = 100

_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png", "PNG"),
    (b"%PDF-", "application/pdf", "pdf", None),
)
#: Names that run code when a PDF is opened or clicked.
_ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/Launch"})
_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch"})
#: Also looked for in the raw bytes (catches what a broken file hides from the parser); "/JS" alone
#: is too short to look for in raw bytes: compressed image data would contain it by chance.
_RAW_ACTIVE = re.compile(rb"/(?:JavaScript|Launch)(?![A-Za-z0-9#])")
#: Keys or actions that submit, import, reach other files or carry other content: none belongs in a scanned material.
_FOREIGN_KEYS = frozenset({"/XFA", "/EmbeddedFiles", "/RichMedia", "/RichMediaContent", "/RichMediaSettings"})
_FOREIGN_ACTIONS = frozenset({"/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/RichMediaExecute"})
_RAW_FOREIGN = re.compile(rb"/(?:XFA|EmbeddedFiles|RichMedia|SubmitForm|ImportData|GoToR|GoToE)(?![A-Za-z0-9#])")
#: Whitespace a PDF may carry after its last %%EOF.
_PDF_TAIL = re.compile(rb"%%EOF[\x00\t\n\x0c\r ]*\Z")


class UploadRejected(Refusal, ValueError):
    """The uploaded file is refused; `message` is shown to the person who sent it."""

    code = "upload_rejected"
    status = 422


@dataclass(frozen=True)
class InspectedFile:
    """What an accepted upload is, from its content."""

    media_type: str  # image/jpeg, image/png, application/pdf
    extension: str  # jpg, png, pdf
    size: int  # bytes


def safe_display_name(filename: str | None) -> str:
    """A file name fit to show: no folders, no control or direction characters, at most 100 characters.

    For display and for the database only; stored files are named by their SHA-256.
    """
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(" " if c.isspace() else c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    name = re.sub(r" {2,}", " ", name).strip(" .")
    if not name:
        return _("unnamed file")
    if len(name) > DISPLAY_NAME_LIMIT:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10 and stem:
            name = stem[: DISPLAY_NAME_LIMIT - len(ext) - 2] + "…." + ext
        else:
            name = name[: DISPLAY_NAME_LIMIT - 1] + "…"
    return name


def _size_text(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MB"
    if limit >= 1024:
        return f"{limit / 1024:g} KB"
    return _("%(n)s bytes", n=limit)


def inspect_upload(data: Buffer, filename: str, *, limit: int, pixel_limit: int = PIXEL_LIMIT) -> InspectedFile:
    """The type of an uploaded file, decided by its content; `UploadRejected` if it is not accepted."""
    shown = safe_display_name(filename)
    if not data:
        raise UploadRejected(_("File “%(name)s” is empty and was refused", name=shown))
    if len(data) > limit:
        raise UploadRejected(_("File “%(name)s” is larger than the limit of %(limit)s and was refused", name=shown,
                               limit=_size_text(limit)))
    for magic, media_type, extension, image_format in _MAGIC:
        if data[:len(magic)] == magic:
            if image_format is not None:
                _check_image(data, image_format, shown, pixel_limit)
            else:
                _check_pdf(data, shown)
            return InspectedFile(media_type, extension, len(data))
    raise UploadRejected(_("File “%(name)s” is not a valid PDF or image and was refused (only JPEG and PNG images "
                           "and PDF files are accepted)", name=shown))


# --- images --------------------------------------------------------------------------------


def _readable(data: Buffer) -> BinaryIO:
    """`data` as a file from its start (a mapped upload is read in place, never copied whole)."""
    if isinstance(data, mmap.mmap):
        data.seek(0)
        return cast(BinaryIO, data)
    return io.BytesIO(data)


def _check_image(data: Buffer, image_format: str, shown: str, pixel_limit: int) -> None:
    invalid = _("File “%(name)s” is not a valid %(format)s image (it cannot be read) and was refused", name=shown,
                format=image_format)
    end = image_end(data, image_format)
    if end is None:
        raise UploadRejected(invalid)
    if end != len(data):
        raise UploadRejected(_("File “%(name)s” has other data hidden after the end of its %(format)s image and was "
                               "refused; please upload the original image", name=shown, format=image_format))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(_readable(data), formats=[image_format]) as image:
                width, height = image.size
                if width <= 0 or height <= 0:
                    raise UploadRejected(invalid)
                if width * height > pixel_limit:
                    raise UploadRejected(_(
                        "The image in file “%(name)s” is too large (%(width)s×%(height)s pixels, the limit is "
                        "%(limit)s pixels) and was refused", name=shown, width=width, height=height, limit=pixel_limit))
                image.verify()
            with Image.open(_readable(data), formats=[image_format]) as image:
                image.load()  # decode every pixel: verify() does not for JPEG
        except UploadRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UploadRejected(_("The image in file “%(name)s” is too large and was refused", name=shown)) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, MemoryError):
            raise UploadRejected(invalid) from None


def image_end(data: Buffer, image_format: str) -> int | None:
    """Where the PNG (after IEND's CRC) or JPEG (after EOI) ends; None if the structure is broken."""
    return _png_end(data) if image_format == "PNG" else _jpeg_end(data)


def _png_end(data: Buffer) -> int | None:
    at = 8
    while at + 12 <= len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        kind = data[at + 4:at + 8]
        at += 12 + length
        if kind == b"IEND":
            return at if at <= len(data) else None
    return None


def _jpeg_end(data: Buffer) -> int | None:
    at, size = 2, len(data)
    while at + 2 <= size:
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xD9:  # EOI
            return at + 2
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        if at + 4 > size:
            return None
        at += 2 + int.from_bytes(data[at + 2:at + 4], "big")
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker that is not RSTn or stuffing
            while True:
                at = data.find(b"\xff", at)
                if at < 0 or at + 1 >= size:
                    return None
                following = data[at + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    at += 1 if following == 0xFF else 2
                    continue
                break
    return None


# --- PDFs ----------------------------------------------------------------------------------


def _check_pdf(data: Buffer, shown: str) -> None:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PdfReadError, PyPdfError

    unreadable = _("File “%(name)s” is not a valid PDF (it cannot be read) and was refused", name=shown)
    active = _("File “%(name)s” contains scripts or automatic actions (JavaScript/Launch) and was refused", name=shown)
    foreign = _("File “%(name)s” contains forms, embedded files, links to other files or automatic actions and "
                "was refused; please upload a plain scanned or printed PDF", name=shown)
    if _RAW_ACTIVE.search(data):
        raise UploadRejected(active)
    if _RAW_FOREIGN.search(data):
        raise UploadRejected(foreign)
    if b"%%EOF" not in data:
        raise UploadRejected(unreadable)  # cut short or not a PDF at all: it has no end
    if not _PDF_TAIL.search(data[-4096:]):
        raise UploadRejected(_("File “%(name)s” has other data after the end of the PDF and was refused; please "
                               "upload the original file", name=shown))
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(_readable(data), strict=False)
            if reader.is_encrypted and not _open_with_empty_password(reader):
                raise UploadRejected(_("File “%(name)s” is an encrypted PDF whose content cannot be checked; please "
                                       "upload an unencrypted file", name=shown))
            if len(reader.pages) < 1:
                raise UploadRejected(unreadable)
            for _page in reader.pages:
                pass
            for obj in _objects(reader):
                if _is_active(obj):
                    raise UploadRejected(active)
                if _is_foreign(obj):
                    raise UploadRejected(foreign)
    except UploadRejected:
        raise
    except (_TooComplex, LimitReachedError):
        raise UploadRejected(_("The PDF structure of file “%(name)s” is too complex to check and was refused",
                               name=shown)) from None
    except (PyPdfError, PdfReadError, ValueError, TypeError, KeyError, IndexError, AttributeError, OSError,
            RecursionError,
            AssertionError, ZeroDivisionError, MemoryError):
        raise UploadRejected(unreadable) from None
    finally:
        logger.setLevel(level)


class _TooComplex(Exception):
    pass


def _open_with_empty_password(reader: PdfReader) -> bool:
    """Many issued PDFs are encrypted for permissions only, with an empty user password."""
    from pypdf.errors import PdfReadError

    try:
        return bool(reader.decrypt(""))
    except (PdfReadError, NotImplementedError, ValueError, TypeError, KeyError):
        return False


def _object_numbers(reader: PdfReader) -> Iterator[tuple[int, int]]:
    """Every (object number, generation) the cross-reference tables know of."""
    for generation, table in (getattr(reader, "xref", None) or {}).items():
        for number in table:
            yield number, generation
    for number in getattr(reader, "xref_objStm", None) or {}:
        yield number, 0


def _objects(reader: PdfReader) -> Iterator[DictionaryObject]:
    """Every dictionary of the PDF: reachable from the trailer or listed in the xref."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    _CONTAINERS = (IndirectObject, DictionaryObject, ArrayObject)  # noqa: N806 - the constant it was
    seen: set[tuple[int, int]] = set()
    todo: list[Any] = [reader.trailer]
    for number, generation in _object_numbers(reader):
        todo.append(IndirectObject(number, generation, reader))
    walked = 0
    while todo:
        node = todo.pop()
        walked += 1
        if walked > PDF_OBJECT_LIMIT:
            raise _TooComplex
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            node = node.get_object()
        if isinstance(node, DictionaryObject):  # includes stream dictionaries
            yield node
            todo.extend(v for v in node.values() if isinstance(v, _CONTAINERS))
        elif isinstance(node, ArrayObject):
            todo.extend(v for v in node if isinstance(v, _CONTAINERS))


def _is_foreign(node: DictionaryObject) -> bool:
    """Forms that submit, embedded files, rich media, remote go-tos; an automatic action opening an address."""
    from pypdf.generic import DictionaryObject

    if any(str(key) in _FOREIGN_KEYS for key in node):
        return True
    if "/S" in node and str(node["/S"]) in _FOREIGN_ACTIONS:
        return True
    automatic = [node.get("/OpenAction")]
    additional = node.get("/AA")
    if additional is not None:
        additional = additional.get_object()
        if isinstance(additional, DictionaryObject):
            automatic.extend(additional.values())
    for action in automatic:
        action = action.get_object() if action is not None else None
        if isinstance(action, DictionaryObject) and str(action.get("/S")) == "/URI":
            return True
    return False


def _is_active(node: DictionaryObject) -> bool:
    if any(str(key) in _ACTIVE_KEYS for key in node):
        return True
    return "/S" in node and str(node["/S"]) in _ACTIVE_ACTIONS


# --- recording the stored file ----------------------------------------------------------


def record_stored_file(session: Any, sha256: str, size: int, media_type: str) -> Any:
    """The `StoredFile` row of these bytes, inserted if missing — safe when two uploads of the same bytes race.

    Files are content-addressed, so two citizens attaching the same scan at the same moment insert the
    same primary key. The insert is `ON CONFLICT DO NOTHING` (PostgreSQL waits for the other transaction
    and then does nothing; SQLite's write lock serialises them), and the row is read back afterwards: the
    loser uses the winner's row instead of failing with an IntegrityError (once shown as a database outage).
    """
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    from formflow.db.models import StoredFile, utcnow

    found = session.get(StoredFile, sha256)
    if found is not None:
        return found
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(StoredFile.__table__).values(sha256=sha256, size=size, media_type=media_type,
                                                        created_at=utcnow()).on_conflict_do_nothing())
    return session.get(StoredFile, sha256, populate_existing=True)


def store_upload(session: Any, storage: Any, data: Buffer, media_type: str) -> Any:
    """Write accepted bytes to the storage (content-addressed) and record them, race-safe (`record_stored_file`)."""
    digest = storage.write(data)
    return record_stored_file(session, digest, len(data), media_type)


__all__ = ["InspectedFile", "PIXEL_LIMIT", "UploadRejected", "inspect_upload", "record_stored_file",
           "safe_display_name", "store_upload"]
