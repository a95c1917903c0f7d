"""What every API view needs: the bearer account, wiring (storage, calendar, today), and titles."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.api import tokens
from formflow.api.errors import ApiError
from formflow.auth.roles import BUILTIN_ROLES, CITIZEN
from formflow.db.models import Account, Application, ApplicationFile, Event, Notice, Office
from formflow.forms.formats import mask_id_number
from formflow.packs.versions import Pinned, load_pinned
from formflow.text.catalogue import _, lazy
from formflow.web.context import formflow, packs, sessions
from formflow.workflow.history import EVENT_TITLES, HIDDEN_FROM_CITIZENS, HIDDEN_FROM_REVIEWERS
from formflow.workflow.spec import WorkflowSpec, spec_for

STATUS_TITLES = {"draft": lazy("Draft (not submitted)"), "active": lazy("In progress"), "closed": lazy("Closed")}
#: History entries the platform itself writes (workflow actions take their titles from the workflow).
CITIZEN_HIDDEN = HIDDEN_FROM_CITIZENS
REVIEW_HIDDEN = HIDDEN_FROM_REVIEWERS


# --------------------------------------------------------------------------- wiring


def ext() -> dict[str, Any]:
    return formflow()


def today() -> date:
    """Today in the deployment's zone (the services' clock: tests may fix it)."""
    from formflow.web.context import today as services_today

    return services_today()


def calendar(pack: str):
    from formflow.web.context import calendar_for

    return calendar_for(pack)


def storage():
    from formflow.web.context import services

    return services().storage


def renderers():
    return ext()["settings"].renderers_dir


def keys():
    return ext()["keys"]


def upload_limit() -> int:
    return ext()["settings"].upload_limit_bytes


def elicence_provider():
    from formflow.web.context import services

    return services().elicence


# --------------------------------------------------------------------------- the bearer


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_account() -> Account:
    """The account of the request's bearer token (401 without a valid one); loaded once per request."""
    if "api_account" in g:
        return g.api_account
    token = bearer_token()
    if token is None:
        raise ApiError(401, headers={"WWW-Authenticate": 'Bearer realm="formflow"'})
    try:
        claims = tokens.read_access(current_app.config["SECRET_KEY"], token)
        with sessions()() as db:
            account = tokens.account_for(db, claims)
            _loaded = [(r.role, r.office_id, r.office, r.pack) for r in account.roles]
            db.expunge_all()
    except ApiError as exc:
        exc.headers.setdefault("WWW-Authenticate", 'Bearer realm="formflow", error="invalid_token"')
        raise
    g.api_account = account
    return account


def is_reviewer(account: Account) -> bool:
    return any(r.office_id for r in account.roles)


def require_reviewer() -> Account:
    """Signed in with a role held at an office; anyone else: 404 (as the desk)."""
    account = current_account()
    if not is_reviewer(account):
        raise ApiError(404)
    return account


# --------------------------------------------------------------------------- titles


def spec_of(pinned: Pinned) -> WorkflowSpec:
    return spec_for(pinned.versions["workflow"], pinned.workflow)


def matter_title(pinned: Pinned, app: Application) -> str:
    return str((pinned.manifest.get("matter") or {}).get("title") or app.matter)


def stage_refs(spec: WorkflowSpec, stages: Any) -> list[dict[str, str]]:
    return [{"id": s, "title": spec.stages[s].title if s in spec.stages else s} for s in stages or []]


def summary(db: Session, app: Application) -> dict[str, Any]:
    pinned = load_pinned(db, app.versions)
    spec = spec_of(pinned)
    return {
        "id": app.id, "number": app.number, "pack": app.pack, "matter": app.matter,
        "matter_title": matter_title(pinned, app), "status": app.status, "result": app.result,
        "version": app.version, "stages": stage_refs(spec, app.stages), "current_step": app.current_step,
        "category": app.category, "channel": app.channel, "awaiting": app.awaiting,
        "submitted_at": app.submitted_at, "deadline": app.deadline, "created_at": app.created_at,
        "updated_at": app.updated_at,
    }


def office_ref(db: Session, office_id: str | None) -> dict[str, str] | None:
    office = db.get(Office, office_id) if office_id else None
    return {"id": office.id, "name": office.name} if office else None


def event_title(spec: WorkflowSpec, event: Event) -> str:
    stage = spec.stages.get(event.from_stage or "")
    if stage is not None and event.action in stage.actions:
        return stage.actions[event.action].title
    if event.action in spec.citizen:
        return spec.citizen[event.action].title
    for other in spec.stages.values():
        if event.action in other.actions:
            return other.actions[event.action].title
    return EVENT_TITLES.get(event.action, event.action)


def timeline(db: Session, app: Application, spec: WorkflowSpec, *, for_citizen: bool) -> list[dict[str, Any]]:
    events = list(db.scalars(select(Event).where(Event.application_id == app.id).order_by(Event.id)))
    hidden = CITIZEN_HIDDEN if for_citizen else REVIEW_HIDDEN
    names = {a.id: a.display_name for a in db.scalars(
        select(Account).where(Account.id.in_({e.actor_id for e in events if e.actor_id})))}
    out = []
    for e in events:
        if e.action in hidden:
            continue
        if e.actor_id is None:
            actor = _("System")
        elif e.actor_id == app.applicant_id:
            actor = _("Applicant") if for_citizen else _("Applicant %(name)s", name=names.get(e.actor_id, "")).strip()
        else:
            role = e.actor_role or ""
            title = spec.role_title(role) if role in spec.roles else str(BUILTIN_ROLES.get(role) or _("Staff"))
            actor = title if for_citizen else f"{title} {names.get(e.actor_id, '')}".strip()
        out.append({
            "id": e.id, "at": e.at, "action": e.action, "title": event_title(spec, e), "actor": actor,
            "stage": spec.stages[e.from_stage].title if e.from_stage in spec.stages else None,
            "to_stage": spec.stages[e.to_stage].title if e.to_stage in spec.stages else None,
            "note": e.note,
        })
    return out


def notice_url(notice_id: int) -> str:
    return f"{request.script_root}/api/v1/notices/{notice_id}"


def notices(db: Session, app: Application) -> list[dict[str, Any]]:
    rows = db.scalars(select(Notice).where(Notice.application_id == app.id).order_by(Notice.id))
    return [{"id": n.id, "kind": n.kind, "title": n.title, "number": n.number, "issued_at": n.issued_at,
             "url": notice_url(n.id)} for n in rows]


def files(db: Session, app: Application) -> list[dict[str, Any]]:
    rows = db.scalars(select(ApplicationFile).where(ApplicationFile.application_id == app.id)
                      .order_by(ApplicationFile.id))
    return [{"id": f.id, "material": f.material, "sha256": f.sha256, "name": f.original_name,
             "uploaded_at": f.uploaded_at, "replaced": f.replaced_at is not None} for f in rows]


def masked_identity(account: Account | None) -> str:
    if account is None or not account.id_number_enc:
        return ""
    try:
        return mask_id_number(keys().open(account.id_number_enc))
    except Exception:  # noqa: BLE001 - an unreadable number is shown as absent
        return ""


def role_title(role: str, pack: str | None = None) -> str:
    if role in BUILTIN_ROLES:
        return str(BUILTIN_ROLES[role])
    for found in packs().packs.values():
        if pack and found.id != pack:
            continue
        for matter in found.matters.values():
            roles = (matter.workflow.content or {}).get("roles") or {} if matter.workflow else {}
            if role in roles:
                return str(roles[role].get("title") or role)
    return role


__all__ = ["CITIZEN", "current_account", "require_reviewer", "sessions", "packs"]
