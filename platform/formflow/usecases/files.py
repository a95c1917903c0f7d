"""Files of an application: attach an upload, take one off, save a drawn signature, check file references.

One function per thing a person does, for every channel (portal, service-hall window, API):

- `attach_file` — inspect an upload by its content, store it (content-addressed, race-safe), put its
  reference in the form data at a file field and record who attached it (`ApplicationFile`), with the
  history event, in the caller's transaction. A draft takes files from its applicant or the assisting
  window clerk; a submitted application only while a correction request waits for the citizen.
- `remove_file` — take a file off a draft's list (its record is kept, marked replaced).
- `save_signature` — a drawn signature, checked and re-encoded by `applications.signing` (the one
  signature check), stored at a signature field.
- `file_references_problems` — every `sha256` in form data must be a file uploaded to THIS application
  by its applicant or assisting clerk and not taken off since. A reference to a file never uploaded, or
  uploaded to someone else's application, is refused at save and at submit, so nobody can make another
  applicant's scan part of their own application.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from formflow.applications import drafts
from formflow.applications.bounds import check_path
from formflow.applications.errors import ApplicationError, NotEditable, StaleDraft
from formflow.applications.materials import field_of
from formflow.applications.signing import SignatureRejected, signature_data_url, signature_problems
from formflow.db.models import Account, Application, ApplicationFile
from formflow.files.buffers import Buffer, receive
from formflow.files.scanning import HELD, INFECTED, UNAVAILABLE, scanner_of
from formflow.files.uploads import UploadRejected, inspect_upload, safe_display_name, store_upload
from formflow.forms.errors import pointer as to_pointer
from formflow.forms.render import get_path, set_path, split_path
from formflow.text.catalogue import _
from formflow.text.errors import FieldProblem, NotFound
from formflow.workflow.moves import ACTIVE, AWAITING_CITIZEN, lock


@dataclass(frozen=True)
class Upload:
    """What a person sent: the bytes and the name their device gave the file (only ever shown).

    `content` is bytes, or a read-only map of the upload spooled to disk (`files.buffers`): a
    large file is never held whole in memory.
    """

    content: Buffer
    filename: str

    @classmethod
    def received(cls, stream: IO[bytes], filename: str | None, limit: int) -> Upload:
        """An upload read from a request's file stream (at most `limit + 1` bytes)."""
        return cls(receive(stream, limit), filename or "")


class FileRefused(ApplicationError):
    """A file cannot be attached or taken off here; `fields` names the place in the form."""

    code = "file_refused"
    status = 422


class InvalidMaterials(ApplicationError):
    """The form data names files that are not this application's uploads, or carries a broken signature."""

    code = "invalid_materials"
    status = 422

    def __init__(self, problems: list[FieldProblem]) -> None:
        messages = list(dict.fromkeys(p.message for p in problems))
        super().__init__(_("; ").join(messages), fields=problems)
        self.problems = problems


class ApplicationNotFound(NotFound):
    def __init__(self, app_id: int) -> None:
        super().__init__(_("The application does not exist."), application_id=app_id)


# --------------------------------------------------------------------------- helpers


def path_of(field: str) -> tuple[Any, ...]:
    """A form place given as a JSON pointer (`/materials/x`) or dotted (`materials.x`)."""
    if field.startswith("/"):
        return tuple(int(p) if p.isascii() and p.isdigit() else p.replace("~1", "/").replace("~0", "~")
                     for p in field[1:].split("/") if p != "")
    return split_path(field)


def dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def locked_application(db: Session, actor: Account | None, app_id: int) -> Application:
    """The application, row-locked before anything of it is read, if `actor` is its applicant or assisting clerk."""
    app = lock(db, app_id)
    if app is None or actor is None or actor.id not in (app.applicant_id, app.assisted_by_id):
        raise ApplicationNotFound(app_id)
    return app


def correcting(app: Application) -> bool:
    """A submitted application waiting for the citizen's correction (files may be added)."""
    return app.status == ACTIVE and app.awaiting == AWAITING_CITIZEN


def _open_for_files(db: Session, actor: Account, app_id: int, expected_version: int | None) -> Application:
    app = locked_application(db, actor, app_id)
    if app.status != "draft" and not correcting(app):
        if app.status == ACTIVE:
            raise NotEditable(_("Files can be added to a submitted application only while a correction request "
                                "is open."))
        raise NotEditable(_("This application has been submitted or closed and can no longer be changed."))
    if expected_version is not None and app.version != int(expected_version):
        raise StaleDraft(app.version)
    return app


def file_fields(pinned: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """The form's file lists (upload targets) for this data, by dotted path."""
    return {n.name: n for n in drafts.form_of(pinned).fields(dict(data)) if n.widget == "file"}


def file_field_at(pinned: Any, data: Mapping[str, Any], path: tuple[Any, ...]) -> Any:
    """`file_fields(pinned, data).get(dotted(path))`, building only the step `path` is in.

    The step is decided against the whole data (`FormSchema.step_node`), so its nodes are those
    of the whole form; a step that is hidden or does not exist has no file list.
    """
    if not path:
        return file_fields(pinned, data).get(dotted(path))
    try:
        step, _hidden = drafts.form_of(pinned).step_node(str(path[0]), dict(data))
    except KeyError:
        return None
    where = dotted(path)
    return next((n for n in step.walk() if n.widget == "file" and n.name == where), None)


def _flush(db: Session, app: Application) -> None:
    app_id = app.id  # read before the flush: a failed flush leaves the row unloadable
    try:
        db.flush()
    except StaleDataError:  # the session's transaction failed with the flush: read the version outside it
        raise StaleDraft(drafts.committed_version(db, app_id)) from None


# --------------------------------------------------------------------------- attach and remove


def attach_file(
    services: Any,
    db: Session,
    actor: Account,
    app: int | Application,
    field_pointer: str,
    upload: Upload,
    *,
    expected_version: int | None,
    data: Mapping[str, Any] | None = None,
    replace: bool = False,
    told: list[str] | None = None,
) -> Application:
    """Inspect, store and attach `upload` to the file list at `field_pointer`; one history event.

    `told` collects what the person must be told beside the success (a file kept but held because the
    virus check could not be done).

    `data` (a draft's posted form merged over what was stored) is saved with it, so what was typed on
    the page is not lost. `replace`: the earlier files of this place are marked replaced (kept).
    """
    app_id = app.id if isinstance(app, Application) else int(app)
    row = _open_for_files(db, actor, app_id, expected_version)
    pinned = drafts.pinned_of(db, row)
    base = copy.deepcopy(dict(data if data is not None and row.status == "draft" else row.data or {}))
    path = path_of(field_pointer)
    where = dotted(path)
    pointer = to_pointer(path)
    node = file_field_at(pinned, base, path)
    if node is None:
        message = _("This place in the form (%(field)s) does not take files.", field=where)
        raise FileRefused(message, fields=[FieldProblem(pointer, message)])
    try:
        info = inspect_upload(upload.content, upload.filename, limit=services.settings.upload_limit_bytes)
    except UploadRejected as exc:
        raise FileRefused(exc.message, code=exc.code, fields=[FieldProblem(pointer, exc.message)]) from None
    name = safe_display_name(upload.filename)
    verdict = scanner_of(services.settings).scan(upload.content)
    if verdict.outcome == INFECTED:
        message = _("File “%(name)s” contains a virus (%(signature)s) and was refused", name=name,
                    signature=verdict.detail)
        raise FileRefused(message, code="upload_infected", fields=[FieldProblem(pointer, message)])
    stored = store_upload(db, services.storage, upload.content, info.media_type)
    if verdict.outcome == UNAVAILABLE:
        stored.scan_status = HELD  # kept for the applicant; staff see it once a scan has passed
        if told is not None:
            told.append(_("File “%(name)s” is kept, but the virus check cannot be done right now: reviewers will "
                          "see it once the check has passed (it is tried again automatically).", name=name))
    elif stored.scan_status == HELD:
        stored.scan_status = None
    files = get_path(base, path)
    files = list(files) if isinstance(files, list) and not replace else []
    kind = str(path[-1])
    if replace:
        now = datetime.now(UTC)
        for old in db.scalars(select(ApplicationFile).where(
            ApplicationFile.application_id == row.id, ApplicationFile.material == kind,
            ApplicationFile.replaced_at.is_(None),
        )):
            old.replaced_at = now
    files.append({"sha256": stored.sha256, "name": name, "media_type": info.media_type, "size": info.size})
    set_path(base, path, files)
    row.data = base
    db.add(ApplicationFile(application_id=row.id, material=kind, sha256=stored.sha256, original_name=name,
                           uploaded_by=actor.id))
    drafts._event(db, row, actor, "file_uploaded", role=drafts._role(row, actor), note=name,
                  details={"field": where, "material": kind, "sha256": stored.sha256})
    _flush(db, row)
    return row


def remove_file(
    services: Any,
    db: Session,
    actor: Account,
    app: int | Application,
    field_pointer: str,
    index: int,
    *,
    expected_version: int | None,
    data: Mapping[str, Any] | None = None,
) -> Application:
    """Take the `index`-th file off the draft's list at `field_pointer`; its record is marked replaced."""
    del services
    app_id = app.id if isinstance(app, Application) else int(app)
    row = locked_application(db, actor, app_id)
    if row.status != "draft":
        raise NotEditable(_("This application has been submitted or closed and can no longer be changed."))
    if expected_version is not None and row.version != int(expected_version):
        raise StaleDraft(row.version)
    new = copy.deepcopy(dict(data if data is not None else row.data or {}))
    path = path_of(field_pointer)
    files = get_path(new, path)
    if not isinstance(files, list) or not 0 <= index < len(files):
        message = _("The file does not exist.")
        raise FileRefused(message, fields=[FieldProblem(to_pointer((*path, index)), message)])
    gone = files.pop(index)
    set_path(new, path, files)
    row.data = new
    record = db.scalar(select(ApplicationFile).where(
        ApplicationFile.application_id == row.id, ApplicationFile.sha256 == (gone or {}).get("sha256"),
        ApplicationFile.replaced_at.is_(None)).order_by(ApplicationFile.id.desc()).limit(1))
    if record is not None:
        record.replaced_at = datetime.now(UTC)
    drafts._event(db, row, actor, "file_removed", role=drafts._role(row, actor),
                  note=str((gone or {}).get("name") or ""), details={"field": dotted(path)})
    _flush(db, row)
    return row


# --------------------------------------------------------------------------- signature


def _takes_signature(form: Any, path: tuple[Any, ...], signed: list[str]) -> bool:
    """A signature material's field itself, or a field within it the form draws as a signature pad."""
    where = dotted(path)
    if where in signed:
        return True
    within = any(where.startswith(f + ".") for f in signed)
    return within and any((frag.schema or {}).get("x-widget") == "signature" for frag in form.schema_at(path))


def signature_fields(pinned: Any) -> list[str]:
    """Dotted places of the materials that are signed (on screen or on paper)."""
    materials = pinned.materials or {}
    return [field_of(materials, kind) for kind, spec in (materials.get("kinds") or {}).items()
            if isinstance(spec, Mapping) and spec.get("signature")]


def save_signature(
    services: Any,
    db: Session,
    actor: Account,
    app: int | Application,
    field_pointer: str,
    data_url: str,
    *,
    expected_version: int | None,
) -> Application:
    """Check and re-encode a drawn signature (the one signature check), store it at a signature field."""
    app_id = app.id if isinstance(app, Application) else int(app)
    row = locked_application(db, actor, app_id)
    if row.status != "draft":
        raise NotEditable(_("This application has been submitted or closed and can no longer be changed."))
    pinned = drafts.pinned_of(db, row)
    path = path_of(field_pointer)
    where = dotted(path)
    pointer = to_pointer(path)
    check_path(drafts.form_of(pinned), path)  # a place of the form, indexes within caps: before building anything
    if not _takes_signature(drafts.form_of(pinned), path, signature_fields(pinned)):
        message = _("This place in the form (%(field)s) does not take a signature.", field=where)
        raise FileRefused(message, fields=[FieldProblem(pointer, message)])
    try:
        stored = signature_data_url(data_url)
    except SignatureRejected as exc:
        # the refusal a signature inside saved form data gets (the API's step save): one code on every channel
        raise InvalidMaterials([FieldProblem(pointer, exc.message)]) from None
    data = copy.deepcopy(dict(row.data or {}))
    set_path(data, path, stored)
    return drafts.save_draft(db, row.id, data, actor=actor, expected_version=expected_version,
                             today=services.today(), action="signature_saved")


def authorization_letter(services: Any, db: Session, actor: Account, app_id: int,
                         document: str | None = None) -> bytes:
    """The authorization letter filled with the applicant's data (signed when a signature is drawn), as PDF.

    `document`: another document of the matter a signature field signs (its `x-document`); it must be one
    of the matter's `documents` (else `NotFound`).
    """
    from formflow.applications.materials import value_at
    from formflow.applications.signing import LETTER_DOCUMENT, authorization_letter_pdf, signature_png

    app = db.get(Application, app_id)
    if app is None or actor is None or actor.id not in (app.applicant_id, app.assisted_by_id):
        raise ApplicationNotFound(app_id)
    pinned = drafts.pinned_of(db, app)
    listed = {str(d.get("id")) for d in (pinned.manifest.get("matter") or {}).get("documents") or []
              if isinstance(d, Mapping)}
    if document and document not in listed:
        raise NotFound(_("The matter has no document %(document)s to sign", document=repr(document)),
                       document=document)
    data = app.data or {}
    members = drafts.household(pinned, data)
    applicant = db.get(Account, app.applicant_id)
    number = services.keys.open(applicant.id_number_enc) if applicant is not None and applicant.id_number_enc else ""
    me = {"name": applicant.display_name if applicant else "", "id_number": number}
    if members:
        me = {"name": members[0][0] or me["name"], "id_number": members[0][1]}
    others = [{"name": n, "id_number": i, "relation": ""} for n, i in members[1:]]
    png = None
    for item in drafts.checklist(pinned, data, services.today()):
        if not item.signature:
            continue
        value = value_at(data, item.path)
        for candidate in value.values() if isinstance(value, Mapping) else [value]:
            if isinstance(candidate, str) and candidate.startswith("data:image/png"):
                try:
                    png = signature_png(candidate)
                except SignatureRejected:
                    png = None
    return authorization_letter_pdf(pinned.manifest, me, others, png, services.today(), application_no=app.number,
                                    renderers=services.renderers, document=document or LETTER_DOCUMENT)


# --------------------------------------------------------------------------- references


def _references(data: Any) -> list[tuple[tuple[Any, ...], str, str]]:
    """(path, sha256, shown name) of every file reference in form data."""
    out: list[tuple[tuple[Any, ...], str, str]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, Mapping):
            if "sha256" in node:
                out.append((path, str(node.get("sha256")), safe_display_name(str(node.get("name") or ""))))
                continue
            stack.extend((v, (*path, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(node))
    return sorted(out, key=lambda r: [str(p) for p in r[0]])


def attached_shas(db: Session, app: Application) -> set[str]:
    """Files uploaded to this application by its applicant or assisting clerk, and not taken off."""
    uploaders = [i for i in (app.applicant_id, app.assisted_by_id) if i is not None]
    return set(db.scalars(select(ApplicationFile.sha256).where(
        ApplicationFile.application_id == app.id, ApplicationFile.replaced_at.is_(None),
        ApplicationFile.uploaded_by.in_(uploaders))))


def file_references_problems(db: Session, app: Application, data: Any,
                             uploads: set[str] | None = None) -> list[FieldProblem]:
    """One problem per file reference in `data` that is not this application's own upload.

    `uploads`: `attached_shas` already read by the caller (submit reads them with the locked row).
    """
    refs = _references(data)
    if not refs:
        return []
    mine = attached_shas(db, app) if uploads is None else uploads
    return [FieldProblem(to_pointer(path), _("File “%(name)s” was not uploaded to this application; please "
                                             "upload it again.", name=name))
            for path, sha, name in refs if sha not in mine]


def materials_problems(db: Session, app: Application, data: Any,
                       uploads: set[str] | None = None) -> list[FieldProblem]:
    """File references and drawn signatures of `data` that are refused (checked at save and at submit)."""
    problems = file_references_problems(db, app, data, uploads)
    problems += [FieldProblem(p, m) for p, m in signature_problems(data)]
    return problems


def check_materials(db: Session, app: Application, data: Any) -> None:
    """`InvalidMaterials` when `materials_problems` finds any: nothing is saved."""
    problems = materials_problems(db, app, data)
    if problems:
        raise InvalidMaterials(problems)


__all__ = [
    "ApplicationNotFound", "FileRefused", "InvalidMaterials", "Upload", "attach_file", "attached_shas",
    "authorization_letter",
    "check_materials", "file_field_at", "file_fields", "file_references_problems", "locked_application",
    "materials_problems",
    "remove_file", "save_signature",
]
