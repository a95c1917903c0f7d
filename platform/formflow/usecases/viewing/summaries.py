"""The head of an application as a person reads it, and the lists every view shows.

`summary` (one application in a list, or the head of its page: titles of its
status, result, stages, category and channel, local times), `notices` and
`files`; and `not_found`, the one refusal of reach shared by the citizen's and
the staff view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.applications.status import result_word, status_title
from formflow.db.models import Application, ApplicationFile, Notice, Office
from formflow.packs.versions import Pinned, load_pinned
from formflow.text import formatting as fmt
from formflow.text.catalogue import _
from formflow.text.errors import NotFound
from formflow.workflow.spec import WorkflowSpec, spec_for


def not_found() -> NotFound:
    return NotFound(_("The application does not exist or is not within your reach."))


# --------------------------------------------------------------------------- the plain results


@dataclass(frozen=True)
class StageRef:
    id: str
    title: str


@dataclass(frozen=True)
class OfficeRef:
    id: str
    name: str


@dataclass(frozen=True)
class Summary:
    """One application in a list, or the head of its page."""

    id: int
    number: str | None
    pack: str
    matter: str
    matter_title: str
    status: str
    status_title: str
    result: str | None
    result_title: str
    version: int
    stages: tuple[StageRef, ...]
    stage_titles: str
    current_step: str | None
    category: str | None
    category_title: str
    channel: str | None
    channel_title: str
    awaiting: str | None
    overdue: bool
    office: OfficeRef | None
    submitted_at: datetime | None
    submitted: str
    created_at: datetime | None
    created: str
    updated_at: datetime | None
    deadline: date | None
    deadline_text: str


@dataclass(frozen=True)
class NoticeView:
    id: int
    kind: str
    title: str
    number: str
    issued_at: datetime | None
    issued: str  # local time
    issued_day: str
    #: the PDF exists (False: numbered, being generated after commit; `state` says so)
    ready: bool = True
    state: str = ""


@dataclass(frozen=True)
class FileView:
    """A file attached to the application (upload history)."""

    id: int
    material: str
    sha256: str
    name: str
    uploaded_at: datetime | None
    uploaded: str
    replaced: bool


def spec_of(pinned: Pinned) -> WorkflowSpec:
    return spec_for(pinned.versions["workflow"], pinned.workflow)


def matter_title(pinned: Pinned, app: Application) -> str:
    return str((pinned.manifest.get("matter") or {}).get("title") or app.matter)


def stage_title(spec: WorkflowSpec, stage_id: str) -> str:
    return spec.stages[stage_id].title if stage_id in spec.stages else stage_id


def result_title(spec: WorkflowSpec, app: Application) -> str:
    """The end stage's title (the workflow's words for the outcome), else a generic one."""
    if not app.result:
        return ""
    if app.status == "closed":
        for sid in app.stages or []:
            if sid in spec.stages and spec.stages[sid].is_end:
                return spec.stages[sid].title
    return result_word(app.result)


def summary(db: Session, app: Application, pinned: Pinned | None = None, spec: WorkflowSpec | None = None,
            office: Office | None = None) -> Summary:
    pinned = pinned or load_pinned(db, app.versions)
    spec = spec or spec_of(pinned)
    if office is None and app.office_id:
        office = db.get(Office, app.office_id)
    stages = tuple(StageRef(s, stage_title(spec, s)) for s in app.stages or [])
    return Summary(
        id=app.id, number=app.number, pack=app.pack, matter=app.matter, matter_title=matter_title(pinned, app),
        status=app.status, status_title=status_title(app.status), result=app.result,
        result_title=result_title(spec, app), version=app.version, stages=stages,
        stage_titles=_(", ").join(s.title for s in stages), current_step=app.current_step,
        category=app.category, category_title=pinned.category_title(app.category), channel=app.channel,
        channel_title=pinned.channel_title(app.channel), awaiting=app.awaiting, overdue=bool(app.overdue),
        office=OfficeRef(office.id, office.name) if office is not None else None,
        submitted_at=fmt.aware(app.submitted_at) if app.submitted_at else None,
        submitted=fmt.local_time(app.submitted_at),
        created_at=fmt.aware(app.created_at) if app.created_at else None, created=fmt.local_time(app.created_at),
        updated_at=fmt.aware(app.updated_at) if app.updated_at else None,
        deadline=app.deadline, deadline_text=fmt.day(app.deadline),
    )


def notices(db: Session, app_id: int) -> tuple[NoticeView, ...]:
    rows = db.scalars(select(Notice).where(Notice.application_id == app_id).order_by(Notice.id))
    return tuple(NoticeView(id=n.id, kind=n.kind, title=n.title, number=n.number,
                            issued_at=fmt.aware(n.issued_at) if n.issued_at else None,
                            issued=fmt.local_time(n.issued_at), issued_day=fmt.day(n.issued_at),
                            ready=n.status == "ready" and n.sha256 is not None,
                            state="" if n.status == "ready" and n.sha256 is not None else _("Being generated"))
                  for n in rows)


def files(db: Session, app_id: int) -> tuple[FileView, ...]:
    rows = db.scalars(select(ApplicationFile).where(ApplicationFile.application_id == app_id)
                      .order_by(ApplicationFile.id))
    return tuple(FileView(id=f.id, material=f.material, sha256=f.sha256, name=f.original_name,
                          uploaded_at=fmt.aware(f.uploaded_at) if f.uploaded_at else None,
                          uploaded=fmt.local_time(f.uploaded_at), replaced=f.replaced_at is not None) for f in rows)
