"""Serving an application's file or notice: one reach rule and ONE header policy for every channel.

The portal, the desk and the API all answer with what `open_file` /
`open_notice` return:

- reach: the applicant, the window clerk who assisted them, or a reviewer
  whose offices reach the application (`queue.in_reach`); a file must belong
  to the application (an attached upload or a reference in its data).
  Anyone else, an unknown file or a missing blob: `NotFound` (404);
- `Content-Type`: the stored type when it is one a browser may show
  (images, PDF), else `application/octet-stream`;
- `Content-Disposition`: `inline` only for those types and when asked for,
  else `attachment`; an ASCII `filename` and the real name as RFC 5987
  `filename*=UTF-8''…`;
- `X-Content-Type-Options: nosniff`, a CSP that runs nothing (framed by our
  own pages only), `Cache-Control: private, no-store` (personal data);
- a notice's number in ONE header, `X-Notice-Number`, percent-encoded UTF-8;
- a notice whose PDF the outbox has not rendered yet: `NoticePending` (409,
  `Retry-After`), never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.applications import drafts as apps
from formflow.applications.materials import file_shas
from formflow.db.models import Account, Application, ApplicationFile, Notice, StoredFile
from formflow.files.rescan import QUARANTINED
from formflow.files.scanning import HELD
from formflow.reviews import queue as queue_mod
from formflow.text.catalogue import _
from formflow.text.errors import NotFound, Refusal

#: Types a browser may show inline (anything else is downloaded as octet-stream).
SHOWABLE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})
NOTICE_TYPE = "application/pdf"
NOTICE_HEADER = "X-Notice-Number"
CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
CACHE = "private, no-store"
#: Seconds a client is asked to wait before asking again for a notice being generated.
RETRY_AFTER = 3


@dataclass(frozen=True)
class Served:
    """A body and the headers every channel answers it with.

    `body` is the file's content as the storage streams it (decrypted chunk by chunk), so a
    channel's response sends a large file without holding it whole; `Content-Length` is set
    from the stored size.
    """

    body: Iterator[bytes] | bytes
    media_type: str
    headers: dict[str, str] = field(default_factory=dict)


def file_missing() -> NotFound:
    return NotFound(_("The file does not exist or is not within your reach."))


def notice_missing() -> NotFound:
    return NotFound(_("The notice does not exist or is not within your reach."))


class NoticePending(Refusal):
    """The notice is numbered, its PDF is still being generated (rendered after commit by the outbox)."""

    code = "notice_pending"
    status = 409

    def __init__(self, notice_id: int) -> None:
        super().__init__(_("The notice is being generated; please try again in a moment."), notice=notice_id,
                         retry_after=RETRY_AFTER)


def valid_sha(sha256: str) -> bool:
    return len(sha256) == 64 and all(ch in "0123456789abcdef" for ch in sha256)


def may_see(services: Any, db: Session, actor: Account | None, app: Application | None) -> bool:
    """The applicant, the assisting clerk, or a reviewer whose offices reach it."""
    if app is None or actor is None:
        return False
    if apps.may_view(app, actor):
        return True
    return queue_mod.in_reach(db, app.id, queue_mod.reach_of(db, actor.id, services.packs))


def _ascii(name: str, fallback: str) -> str:
    plain = "".join(ch for ch in name if 32 < ord(ch) < 127 and ch not in '"\\;,')
    return plain if plain and plain.strip(".") else fallback


def disposition(kind: str, name: str, fallback: str) -> str:
    """`inline|attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 / RFC 5987)."""
    return f"{kind}; filename=\"{_ascii(name, fallback)}\"; filename*=UTF-8''{quote(name or fallback, safe='')}"


def headers(media_type: str, name: str, fallback: str, *, inline: bool) -> tuple[str, dict[str, str]]:
    """The content type and headers of one served file (the one policy)."""
    showable = media_type in SHOWABLE
    served_type = media_type if showable else "application/octet-stream"
    return served_type, {
        "Content-Disposition": disposition("inline" if inline and showable else "attachment", name, fallback),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CSP,
        "X-Frame-Options": "SAMEORIGIN",
        "Cache-Control": CACHE,
    }


def notice_number_header(number: str) -> str:
    """The notice number as the one header value (percent-encoded UTF-8; `unquote` gives it back)."""
    return quote(number or "", safe="")


def _read(services: Any, sha256: str, missing: NotFound) -> Iterator[bytes]:
    """The stored content in pieces; the header and key are checked before the first byte is sent."""
    try:
        return services.storage.open(sha256)
    except Exception:  # noqa: BLE001 - a missing blob is a missing file
        raise missing from None


def _name_of(db: Session, app: Application, sha256: str) -> str:
    row = db.scalar(select(ApplicationFile).where(ApplicationFile.application_id == app.id,
                                                  ApplicationFile.sha256 == sha256)
                    .order_by(ApplicationFile.id.desc()).limit(1))
    if row is not None and row.original_name:
        return row.original_name
    stack: list[Any] = [app.data or {}]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("sha256") == sha256 and isinstance(item.get("name"), str):
                return item["name"]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return ""


def open_file(services: Any, db: Session, actor: Account | None, app_id: int, sha256: str, *,
              inline: bool = False) -> Served:
    """One file of one application, for someone who may see it; `inline` for previews on our own pages."""
    if not valid_sha(sha256):
        raise file_missing()
    app = db.get(Application, app_id)
    if app is None or not may_see(services, db, actor, app):
        raise file_missing()
    attached = db.scalar(select(ApplicationFile.id).where(
        ApplicationFile.application_id == app.id, ApplicationFile.sha256 == sha256).limit(1))
    if attached is None and sha256 not in file_shas(app.data or {}):
        raise file_missing()
    stored = db.get(StoredFile, sha256)
    if stored is None:
        raise file_missing()
    if stored.scan_status == QUARANTINED:
        raise Refusal(_("A virus check found a virus in this file; it cannot be opened. Please upload the "
                        "material again."), code="file_infected", status=409)
    if stored.scan_status == HELD and (actor is None or actor.id not in (app.applicant_id, app.assisted_by_id)):
        raise Refusal(_("This file is held until the virus check can be done; please try again later."),
                      code="file_held", status=409)
    body = _read(services, sha256, file_missing())
    media, extra = headers(stored.media_type or "", _name_of(db, app, sha256), sha256[:16], inline=inline)
    if stored.size is not None:
        extra["Content-Length"] = str(stored.size)
    return Served(body, media, extra)


def open_notice(services: Any, db: Session, actor: Account | None, notice_id: int, *,
                app_id: int | None = None) -> Served:
    """One notice (PDF) of an application someone may see; `app_id` when the address names it too."""
    row = db.get(Notice, notice_id)
    if row is None or (app_id is not None and row.application_id != app_id):
        raise notice_missing()
    if not may_see(services, db, actor, db.get(Application, row.application_id)):
        raise notice_missing()
    if row.sha256 is None or row.status != "ready":
        raise NoticePending(row.id)
    body = _read(services, row.sha256, notice_missing())
    stored = db.get(StoredFile, row.sha256)
    name = f"{row.title}{row.number}.pdf" if row.title or row.number else ""
    _media, extra = headers(NOTICE_TYPE, name, f"notice-{row.id}.pdf", inline=False)
    extra[NOTICE_HEADER] = notice_number_header(row.number)
    if stored is not None and stored.size is not None:
        extra["Content-Length"] = str(stored.size)
    return Served(body, NOTICE_TYPE, extra)
