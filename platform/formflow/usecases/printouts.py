"""Print the approval form (desk), the applicant's copy (under My applications) and the window receipt.

Both go through the notice renderer. The approval form shows the application
as the reviewer sees it (ID numbers masked, so no access record beyond the
staff view's own e-licence records) with each stage's opinion and signer so
far; the copy is the applicant's own data, masked the same way; the receipt
is for the clerk who assisted at the window. Reach is the staff view's, the
citizen view's and the assisting clerk's: anyone else gets NotFound.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.orm import Session

from formflow.applications import drafts as apps
from formflow.db.models import Account, Application, Office
from formflow.documents import printouts
from formflow.documents.exports import PDF, download_headers
from formflow.documents.notices import notice_settings
from formflow.packs.inherit import lineage
from formflow.packs.versions import load_pinned
from formflow.personal.numbers import id_number_of
from formflow.text import formatting as fmt
from formflow.text.catalogue import DEFAULT_LOCALE, in_locale
from formflow.usecases import serving
from formflow.usecases.serving import CACHE, Served
from formflow.usecases.viewing.assessment import checklist
from formflow.usecases.viewing.citizen import citizen_app
from formflow.usecases.viewing.staff import staff_view
from formflow.usecases.viewing.values import data_steps


def _lineage(services: Any, pack_id: str) -> list[str]:
    """The packs `pack_id` extends, nearest first (their template overrides apply to it too)."""
    pack = services.packs.packs.get(pack_id)
    return lineage(pack.manifest.content) if pack is not None else []


def _served(body: bytes, name: str) -> Served:
    return Served(body, PDF, {**download_headers(name), "X-Content-Type-Options": "nosniff",
                              "Cache-Control": CACHE})


def approval_form(services: Any, db: Session, actor: Account | None, app_id: int) -> Served:
    """The approval form of an application within the reviewer's reach, pre-filled, with the opinions so far."""
    view = staff_view(services, db, actor, app_id)
    head = view.app
    title = in_locale(DEFAULT_LOCALE, "%(matter)s approval form", matter=_bare(head.matter_title))
    opinions = [{"stage": e.stage or "", "action": e.title, "note": e.note, "actor": e.actor, "when": e.when}
                for e in view.history if e.actor and e.stage]
    context = {
        "matter_title": head.matter_title, "application_no": head.number or str(head.id),
        "applicant_name": view.applicant, "id_number_masked": view.id_masked,
        "category_title": head.category_title, "submitted_on": _submitted(db, app_id),
        "sections": printouts.sections(view.steps), "opinions": opinions,
    }
    body = printouts.render(services.renderers, head.pack, printouts.APPROVAL_TEMPLATE, context, title=title,
                            number=head.number, today=services.today(), lineage=_lineage(services, head.pack))
    return _served(body, f"{title}{head.number or head.id}.pdf")


def application_copy(services: Any, db: Session, actor: Account | None, app_id: int) -> Served:
    """The applicant's copy of what they submitted (the application form), masked like every page shows it."""
    app = citizen_app(db, actor, app_id)
    pinned = load_pinned(db, app.versions)
    data = copy.deepcopy(app.data or {})
    try:
        items = apps.checklist(pinned, data, services.today())
    except Exception:  # noqa: BLE001 - rules over a broken draft must not hide the copy
        items = []
    steps, _sourced = data_steps(pinned, data, items)
    matter = (pinned.manifest.get("matter") or {}).get("title") or app.matter
    title = in_locale(DEFAULT_LOCALE, "%(matter)s application form", matter=_bare(matter))
    applicant = db.get(Account, app.applicant_id)
    number = id_number_of(services.keys, applicant)
    context = {
        "matter_title": matter, "application_no": app.number or str(app.id),
        "applicant_name": applicant.display_name if applicant else "", "id_number_masked": fmt.mask_id(number),
        "submitted_on": app.submitted_at.date() if app.submitted_at else None,
        "sections": printouts.sections(steps),
    }
    body = printouts.render(services.renderers, app.pack, printouts.COPY_TEMPLATE, context, title=title,
                            number=app.number, today=services.today(), lineage=_lineage(services, app.pack))
    return _served(body, f"{title}{app.number or app.id}.pdf")


def window_receipt(services: Any, db: Session, actor: Account | None, app_id: int) -> Served:
    """The receipt of a submitted application the clerk assisted: materials received, when they hear back."""
    app = db.get(Application, app_id)
    if app is None or actor is None or app.assisted_by_id != actor.id or app.status == "draft":
        raise serving.notice_missing()
    pinned = load_pinned(db, app.versions)
    today = services.today()
    rows = checklist(pinned, copy.deepcopy(app.data or {}), today)
    applicant = db.get(Account, app.applicant_id)
    number = id_number_of(services.keys, applicant)
    office = db.get(Office, app.office_id) if app.office_id else None
    matter = (pinned.manifest.get("matter") or {}).get("title") or app.matter
    settings = notice_settings(pinned.workflow, None)
    context = {
        "office_name": office.name if office is not None else "", "matter_title": matter,
        "application_no": app.number or str(app.id),
        "applicant_name": applicant.display_name if applicant else "", "id_number_masked": fmt.mask_id(number),
        "received_on": app.submitted_at.date() if app.submitted_at else today,
        "received": [{"title": r.title, "state": r.state_title, "files": len(r.files)} for r in rows if r.provided],
        "missing": [r.title for r in rows if r.required and not r.provided],
        "answer_by": app.deadline, "clerk_name": actor.display_name,
        "contact": settings.get("contact"), "seal_note": settings.get("seal_note"),
    }
    title = in_locale(DEFAULT_LOCALE, "Receipt of the application materials")
    body = printouts.render(services.renderers, app.pack, printouts.RECEIPT_TEMPLATE, context, title=title,
                            number=app.number, today=today, lineage=_lineage(services, app.pack))
    return _served(body, f"{title}{app.number or app.id}.pdf")


def _bare(matter: str) -> str:
    """The matter title without the catalogue's trailing word "application" (so the title does not double it)."""
    word = in_locale(DEFAULT_LOCALE, "application (word ending a matter title)")
    return matter[: -len(word)] if word and matter.endswith(word) else matter


def _submitted(db: Session, app_id: int) -> Any:
    app = db.get(Application, app_id)
    return app.submitted_at.date() if app is not None and app.submitted_at else None
