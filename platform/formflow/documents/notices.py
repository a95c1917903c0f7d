"""Issue a numbered notice: next number and record it in the action's transaction, render the PDF after commit.

Numbers run per (pack, notice kind, year) without gaps or duplicates, also
under concurrency: the counter row is created at 1, or incremented, by one
`INSERT … ON CONFLICT DO UPDATE … RETURNING`, which holds its row lock until the
caller's transaction ends, so a rolled-back action gives its number back.

Templates are looked up in `renderers/<pack>/` before `renderers/` (a pack may
override any template: `renderers/<pack>/documents/<kind>.html`), in the template's own folder first so that
`{% extends "_notice.html" %}` finds its sibling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from formflow.db.models import Account, Application, Notice, NoticeCounter, OutboxMessage
from formflow.documents.context import RESERVED, notice_context
from formflow.documents.pdf import format_number, render_pdf
from formflow.files.storage import LocalStorage, store
from formflow.forms.formats import mask_id_number
from formflow.outbox import enqueue, handler
from formflow.packs.inherit import lineage
from formflow.packs.versions import load_pinned
from formflow.workflow.spec import spec_for

PDF = "application/pdf"
#: The outbox kind that renders a numbered notice after commit.
RENDER_NOTICE = "render_notice"
#: Notice.status: numbered, PDF not rendered yet | PDF stored.
PENDING_NOTICE, READY_NOTICE = "pending", "ready"


def next_seq(session: Session, pack: str, kind: str, year: int) -> int:
    """The next number of (pack, kind, year); the counter row stays locked until commit.

    One statement: the counter row is made at 1, or incremented when it is there already."""
    dialect = session.get_bind().dialect.name
    bump = _BUMPS.get(dialect)
    if bump is None:
        table = NoticeCounter.__table__
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        made = insert(table).values(pack=bindparam("pack"), kind=bindparam("kind"), year=bindparam("year"), last=1)
        bump = _BUMPS[dialect] = made.on_conflict_do_update(
            index_elements=[table.c.pack, table.c.kind, table.c.year], set_={"last": table.c.last + 1},
        ).returning(table.c.last)
    return int(session.execute(bump, {"pack": pack, "kind": kind, "year": year}).scalar_one())


_BUMPS: dict[str, Any] = {}


def template_dirs(renderers: Path, pack: str, template: str,
                  lineage: Sequence[str] = ()) -> tuple[list[Path], str]:
    """Folders to search and the file name: the pack's own override first, then those of the packs it extends
    (`lineage`, nearest first: a city uses its province's overrides), then the shared templates; in each, the
    template's folder first."""
    rel = PurePosixPath(template)
    folder = rel.parent
    packs = [pack, *lineage]
    dirs = [*(renderers / p / folder for p in packs), renderers / folder]
    if str(folder) != ".":
        dirs += [*(renderers / p for p in packs), renderers]
    return dirs, rel.name


def missing_items(materials: Mapping[str, Any], named: Sequence[str], note: str | None) -> list[dict]:
    """What a correction notice lists: the named materials, then the reviewer's note."""
    kinds = materials.get("kinds") or {}
    items = []
    for kind in named:
        spec = kinds.get(kind) or {}
        items.append({"title": spec.get("title", kind), "requirement": spec.get("requirement")})
    if note:
        items.append({"title": note, "requirement": None})
    return items


SETTINGS = ("contact", "seal_note", "remedy", "correction")


def notice_settings(workflow: Mapping[str, Any], notice_id: str | None,
                    action_vars: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What a pack configures for one notice: `notice_defaults` of the workflow, then the notice's own keys.

    contact (line), seal_note (under the office), remedy {review_body, court, review_days,
    litigation_months} for refusals, correction {working_days, consequence} for correction notices.
    Then the notice variables, each level over the one before: `notice_defaults.vars`, the
    notice's `vars`, the issuing action's `notice_vars` (a mapping merges into the one below,
    so `remedy: {review_body: …}` keeps the default court).
    """
    defaults = workflow.get("notice_defaults") or {}
    own = ((workflow.get("notices") or {}).get(notice_id) or {}) if notice_id else {}
    out: dict[str, Any] = {}
    for key in SETTINGS:
        base, mine = defaults.get(key), own.get(key)
        if isinstance(base, Mapping) or isinstance(mine, Mapping):
            merged = {**(base or {}), **(mine or {})}
            out[key] = {k: v for k, v in merged.items() if k not in ("note", "source")}
        else:
            out[key] = mine if mine is not None else base
    for level in (defaults.get("vars"), own.get("vars"), action_vars):
        for key, value in (level or {}).items():
            if key in ("note", "source") or key in RESERVED:
                continue  # the platform's own names are never a configured value (`formflow check` says so)
            below = out.get(key)
            if isinstance(value, Mapping) and isinstance(below, Mapping):
                out[key] = {**below, **value}
            else:
                out[key] = value
    remedy = out.get("remedy")
    if remedy:
        remedy.setdefault("review_days", 60)
        remedy.setdefault("litigation_months", 6)
    correction = out.pop("correction", None) or {}
    out["correction_days"] = correction.get("working_days")
    out["consequence"] = correction.get("consequence")
    return out


def legacy_names(*, applicant_name: str, id_number_masked: str, matter_title: str, application_no: str,
                 submitted_on: date | None) -> dict[str, Any]:
    """The flat names the shipped templates were first written with (a pack's override may still use them)."""
    return {
        "applicant_name": applicant_name, "id_number_masked": id_number_masked, "matter_title": matter_title,
        "application_no": application_no, "submitted_on": submitted_on, "reason": "", "missing": [],
        "deadline": None, "time_limit": None,
    }


def base_context(session: Session, app: Application, keys: Any = None, *,
                 notice_id: str | None = None, event_id: int | None = None,
                 reason: str = "", deadline: date | None = None) -> dict[str, Any]:
    """What every notice may print: the documented template context (`documents.context`) of the
    application as the issuing event left it, the pack's notice settings and variables, and the flat
    names older templates use (applicant_name, id_number_masked, matter_title, application_no…)."""
    pinned = load_pinned(session, app.versions)
    applicant = session.get(Account, app.applicant_id)
    masked = ""
    if keys is not None and applicant is not None and applicant.id_number_enc:
        masked = mask_id_number(keys.open(applicant.id_number_enc))
    matter = pinned.manifest.get("matter") or {}
    flat = legacy_names(
        applicant_name=applicant.display_name if applicant else "", id_number_masked=masked,
        matter_title=matter.get("title") or pinned.workflow.get("title", app.matter),
        application_no=app.number or str(app.id),
        submitted_on=app.submitted_at.date() if app.submitted_at else None)
    if notice_id is None:
        return {**flat, **notice_settings(pinned.workflow, None)}
    context = notice_context(session, app, keys, notice_id=notice_id, event_id=event_id, reason=reason,
                             deadline=deadline)
    return {**flat, **context}


def issue_notice(
    session: Session,
    app: Application,
    notice_id: str,
    *,
    context: Mapping[str, Any],
    storage: LocalStorage | None = None,
    renderers: Path | None = None,
    today: date,
    event_id: int | None = None,
    keys: Any = None,
) -> Notice:
    """Number and record notice `notice_id` of the application's workflow; its PDF comes after commit.

    Runs in the caller's transaction: the number, the `Notice` row (status
    pending, no PDF yet) and the outbox message `render_notice` (key
    `notice:<id>`, the context sealed in its payload) commit or roll back with
    the action. `context` adds to (and overrides) the base context:
    office_name, reason, missing, deadline… `storage`, `renderers` and `keys`
    are the worker's now (kept for callers).
    """
    pinned = load_pinned(session, app.versions)
    notice = spec_for(app.versions["workflow"], pinned.workflow).notice(notice_id)
    seq = next_seq(session, app.pack, notice_id, today.year)
    number = format_number(notice.number, year=today.year, seq=seq)
    row = Notice(
        application_id=app.id, pack=app.pack, kind=notice_id, title=notice.title, year=today.year, seq=seq,
        number=number, sha256=None, event_id=event_id, status=PENDING_NOTICE,
    )
    session.add(row)
    session.flush()
    enqueue(session, RENDER_NOTICE, {"notice": row.id, "issued_on": today.isoformat(), "context": _plain(context)},
            key=f"notice:{row.id}", application_id=app.id, pack=app.pack, fresh=True)  # a new row's id
    return row


def render_stored(session: Session, row: Notice, *, context: Mapping[str, Any], storage: Any, renderers: Path,
                  issued_on: date, keys: Any = None) -> Notice:
    """Render notice `row`, store its PDF and mark it ready (the `render_notice` handler's work)."""
    app = session.get(Application, row.application_id)
    assert app is not None
    pinned = load_pinned(session, app.versions)
    notice = spec_for(app.versions["workflow"], pinned.workflow).notice(row.kind)
    base = base_context(session, app, keys, notice_id=row.kind, event_id=row.event_id,
                        reason=str(context.get("reason") or ""), deadline=context.get("deadline"))
    full = {**base, "office_name": "", **context}
    dirs, name = template_dirs(Path(renderers), app.pack, notice.template, lineage(pinned.manifest))
    pdf = render_pdf(dirs, name, full, title=row.title, number=row.number, issued_on=issued_on)
    stored = store(session, storage, pdf, PDF)
    row.sha256, row.status = stored.sha256, READY_NOTICE
    session.flush()
    return row


@handler(RENDER_NOTICE)
def render_notice(session: Session, message: OutboxMessage, services: Any) -> None:
    """Outbox handler: render a pending notice (a ready or vanished one is left alone: idempotent)."""
    payload = message.payload
    row = session.get(Notice, payload["notice"], with_for_update=True)
    if row is None or row.status == READY_NOTICE:
        return
    render_stored(session, row, context=_typed(payload.get("context") or {}), storage=services.storage,
                  renderers=services.renderers, issued_on=date.fromisoformat(payload["issued_on"]),
                  keys=services.keys)


# --------------------------------------------------------------------------- the context in a JSON payload

_DATE = "$date"


def _plain(value: Any) -> Any:
    """`context` as JSON (dates tagged), to travel sealed in the outbox payload."""
    if isinstance(value, date):
        return {_DATE: value.isoformat()}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _typed(value: Any) -> Any:
    """The inverse of `_plain`."""
    if isinstance(value, dict):
        if set(value) == {_DATE}:
            return date.fromisoformat(value[_DATE])
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return value
