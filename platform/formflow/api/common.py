"""What every API view needs: the bearer account, wiring (storage, calendar, today), and titles."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, g, request

from formflow.api import tokens
from formflow.api.errors import ApiError
from formflow.auth.roles import BUILTIN_ROLES, CITIZEN
from formflow.db.models import Account
from formflow.forms.formats import mask_id_number
from formflow.packs.versions import Pinned
from formflow.web.context import formflow, packs, sessions
from formflow.workflow.spec import WorkflowSpec, spec_for

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


def stage_refs(spec: WorkflowSpec, stages: Any) -> list[dict[str, str]]:
    return [{"id": s, "title": spec.stages[s].title if s in spec.stages else s} for s in stages or []]


def notice_url(notice_id: int) -> str:
    return f"{request.script_root}/api/v1/notices/{notice_id}"


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
