"""The citizen's draft: consent, start, save, discard, submit and withdraw.

What a draft lacks (`checks`), its pinned form (`pinned`) and the e-licence
fill (`elicence_fill`) live in their own modules and are re-exported here.

Every function that changes an application does it in the caller's session and
appends its Event row in the same transaction (the caller commits once). Drafts
are guarded by `Application.version` (SQLAlchemy's version column): a save
naming a version that is no longer current raises `StaleDraft` and changes
nothing, so two tabs never silently overwrite each other.

Nothing here names a locality, a category, a material or a field: the pinned
form, materials and rules say everything.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from formflow.applications.bounds import check_data
from formflow.applications.validation import _title_at, form_errors  # noqa: F401 (_title_at: usecases.identity)
from formflow.db.models import (
    Account,
    Application,
    Consent,
    Event,
    Office,
)
from formflow.forms.render import get_path, set_path, split_path
from formflow.packs.loader import PackSet
from formflow.packs.versions import Pinned, load_pinned, pin
from formflow.personal.crypto import DataKeys
from formflow.text.catalogue import DEFAULT_LOCALE, _, in_locale

CITIZEN = "citizen"


# --------------------------------------------------------------------------- errors

from formflow.applications.errors import (  # noqa: E402  (re-exported: the drafts' refusals)
    AlreadySubmitted,
    ApplicationError,
    DuplicateHousehold,
    Incomplete,
    NotEditable,
    StaleDraft,
)

__all__ = ["AlreadySubmitted", "ApplicationError", "DuplicateHousehold", "Incomplete", "NotEditable", "StaleDraft"]


# --------------------------------------------------------------------------- moved: re-exported for callers

from formflow.applications.checks import (  # noqa: E402
    Precheck,
    all_errors,
    apply_computed,
    checklist,
    checklist_errors,
    precheck,
    step_errors,
    validation_errors,
    variables,
)
from formflow.applications.elicence_fill import elicence_values, fetch_elicences  # noqa: E402
from formflow.applications.pinned import category_of, category_path, form_of, pinned_of  # noqa: E402

# --------------------------------------------------------------------------- events and loading


def _event(session: Session, app: Application, actor: Account | None, action: str, *,
           role: str | None = None, note: str | None = None, details: dict[str, Any] | None = None) -> Event:
    event = Event(
        application_id=app.id,
        actor_id=actor.id if actor is not None else None,
        actor_role=role or (CITIZEN if actor is not None and actor.id == app.applicant_id else None),
        action=action,
        from_stage=app.stage,
        to_stage=app.stage,
        note=note,
        details=details or {},
    )
    session.add(event)
    return event


def _role(app: Application, actor: Account | None) -> str | None:
    if actor is None:
        return None
    if actor.id == app.applicant_id:
        return CITIZEN
    if app.assisted_by_id == actor.id:
        return "window_clerk"
    return None


def load(session: Session, app_id: int, *, for_update: bool = False) -> Application:
    stmt = select(Application).where(Application.id == app_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    app = session.scalar(stmt)
    if app is None:
        raise ApplicationError(_("The application does not exist."))
    return app


def may_edit(app: Application, account: Account) -> bool:
    return app.status == "draft" and account.id in (app.applicant_id, app.assisted_by_id)


def may_view(app: Application, account: Account) -> bool:
    return account.id in (app.applicant_id, app.assisted_by_id)


def _draft(session: Session, app_id: int, expected_version: int | None, actor: Account) -> Application:
    """The draft `actor` may edit (its applicant or the assisting clerk), at the expected version.

    Read through the session's identity map (a row the request already loaded is not selected again:
    a SELECT would not refresh it either); the flush's version check still catches a concurrent save.
    """
    app = session.get(Application, app_id)
    if app is None:
        raise ApplicationError(_("The application does not exist."))
    if actor is None or actor.id not in (app.applicant_id, app.assisted_by_id):
        raise NotEditable(_("You may not change this application."))
    if app.status != "draft":
        raise NotEditable(_("This application has been submitted or closed and can no longer be changed."))
    if expected_version is not None and app.version != int(expected_version):
        raise StaleDraft(app.version)
    return app


def _flush(session: Session, app: Application) -> None:
    app_id = app.id  # read before the flush: a failed flush leaves the row unloadable
    try:
        session.flush()
    except StaleDataError:
        # another request saved first (concurrent writers): this transaction failed with the flush and is
        # rolled back by the caller's; the committed version is read on a connection of its own
        raise StaleDraft(committed_version(session, app_id)) from None


def committed_version(session: Session, app_id: int) -> int:
    """The application's version as committed, read outside the session's (possibly failed) transaction."""
    with session.get_bind().engine.connect() as conn:
        return int(conn.scalar(select(Application.version).where(Application.id == app_id)) or 0)


# --------------------------------------------------------------------------- drafts


def record_consent(session: Session, account: Account, pack: str, matter: str, version: str, accepted: bool) -> Consent:
    row = Consent(account_id=account.id, pack=pack, matter=matter, agreement_version=version, accepted=accepted)
    session.add(row)
    session.flush()
    return row


def has_consent(session: Session, account_id: int, pack: str, matter: str, version: str) -> bool:
    row = session.scalar(
        select(Consent).where(Consent.account_id == account_id, Consent.pack == pack, Consent.matter == matter,
                              Consent.agreement_version == version).order_by(Consent.id.desc()).limit(1)
    )
    return bool(row and row.accepted)


def find_draft(session: Session, applicant_id: int, pack: str, matter: str) -> Application | None:
    return session.scalar(
        select(Application).where(
            Application.applicant_id == applicant_id, Application.pack == pack,
            Application.matter == matter, Application.status == "draft",
        ).order_by(Application.id.desc()).limit(1)
    )


def selectable_offices(session: Session, pack: str) -> list[Office]:
    return list(session.scalars(
        select(Office).where(Office.pack == pack, Office.selectable.is_(True)).order_by(Office.path)
    ))


def start_draft(
    session: Session,
    packset: PackSet,
    *,
    applicant: Account,
    pack: str,
    matter: str,
    office_id: str,
    channel: str | None,
    actor: Account | None = None,
    assisted_by: Account | None = None,
    prefill: Mapping[str, Any] | None = None,
) -> Application:
    """The applicant's open draft of this matter, or a new one pinned to the current pack versions."""
    existing = find_draft(session, applicant.id, pack, matter)
    if existing is not None:
        return existing
    office = session.get(Office, office_id)
    if office is None or office.pack != pack or not office.selectable:
        raise ApplicationError(_("Please choose a valid application region"))
    if pack not in packset.packs or matter not in packset.packs[pack].matters:
        raise ApplicationError(_("No such matter"))
    versions = pin(session, packset, pack, matter)
    pinned = load_pinned(session, versions)
    steps = form_of(pinned).steps()
    data: dict[str, Any] = {s.id: {} for s in steps}
    for dotted, value in (prefill or {}).items():
        set_path(data, split_path(dotted), value)
    app = Application(
        pack=pack, matter=matter, status="draft", applicant_id=applicant.id, channel=channel,
        assisted_by_id=assisted_by.id if assisted_by else None, office_id=office.id, office_path=office.path,
        versions=versions, data=data, current_step=steps[0].id if steps else None, stages=[],
    )
    session.add(app)
    session.flush()
    actor = actor or applicant
    _event(session, app, actor, "draft_created", role=_role(app, actor),
           note=in_locale(DEFAULT_LOCALE, "Application region: %(region)s", region=office.name),
           details={"office": office.id, "channel": channel})
    session.flush()
    return app


def save_draft(
    session: Session,
    app_id: int,
    data: Mapping[str, Any],
    *,
    actor: Account,
    expected_version: int | None,
    step: str | None = None,
    today: date | None = None,
    action: str = "draft_saved",
    note: str | None = None,
) -> Application:
    """Store the draft's data (no validation): save, previous step, and every step change."""
    app = _draft(session, app_id, expected_version, actor)
    pinned = pinned_of(session, app)
    check_data(form_of(pinned), data)  # bounds first: nothing is copied or built beyond them
    new = apply_computed(pinned, copy.deepcopy(dict(data)), today or date.today())
    from formflow.usecases.files import check_materials

    check_materials(session, app, new)  # this application's own uploads only, signatures that are images
    app.data = new
    flag_modified(app, "data")  # a save of unchanged data still moves the version with its event
    if step:
        app.current_step = step
    category = category_of(pinned, new)
    app.category = category
    _event(session, app, actor, action, role=_role(app, actor), note=note, details={"step": step} if step else {})
    _flush(session, app)
    return app


def discard_draft(session: Session, app_id: int, *, actor: Account, expected_version: int | None) -> Application:
    """Abandon a draft (never submitted): closed as withdrawn, history kept."""
    app = _draft(session, app_id, expected_version, actor)
    app.status = "closed"
    app.result = "withdrawn"
    _event(session, app, actor, "withdrawn", role=_role(app, actor),
           note=in_locale(DEFAULT_LOCALE, "Withdrew the application before submitting it"))
    _flush(session, app)
    return app


# --------------------------------------------------------------------------- submission


def household(pinned: Pinned, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, ID number) of each household member the form lists (applicant and co-applicants).

    Every editable `cn-id-card` field counts; read-only e-licence copies do not.
    The name is the `name` beside it (or in its object).
    """
    form = form_of(pinned)
    pruned = form.prune_hidden(dict(data))
    return household_in(form.fields(pruned), pruned)


def household_in(nodes: list[Any], pruned: Mapping[str, Any]) -> list[tuple[str, str]]:
    """`household` from the form's nodes for the pruned data (a walk the caller already made)."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for node in nodes:
        if node.fmt != "cn-id-card" or node.readonly or not isinstance(node.value, str) or not node.value:
            continue
        parent = get_path(pruned, node.path[:-1])
        name = parent.get("name") if isinstance(parent, dict) else None
        number = node.value.strip().upper()
        if number in seen:
            continue
        seen.add(number)
        out.append((str(name or ""), number))
    return out


def new_submit_token() -> str:
    return secrets.token_urlsafe(24)


#: The one history event of a submission (written by the workflow engine as it enters the workflow).
SUBMIT_EVENT = "submit"


@dataclass
class _Given:
    """The parts of `Services` the use cases read, from the arguments of the older calls below."""

    keys: Any
    day: date
    fixed_calendar: Any = None
    storage: Any = None
    renderers: Any = None

    def today(self) -> date:
        return self.day

    def now(self) -> datetime:
        return datetime.now(UTC)

    def calendar(self, pack: str) -> Any:
        if self.fixed_calendar is not None:
            return self.fixed_calendar
        from formflow.workflow.moves import default_calendar

        return default_calendar()


def submit(
    session: Session,
    app_id: int,
    *,
    actor: Account,
    expected_version: int | None,
    token: str,
    keys: DataKeys,
    today: date,
    calendar: Any = None,
    channel: str = "service",
) -> Application:
    """`usecases.submit.submit` for callers holding keys, today and a calendar rather than `Services`."""
    from formflow.usecases.submit import submit as submit_usecase

    return submit_usecase(_Given(keys, today, calendar), session, actor, app_id, token=token, channel=channel,
                          expected_version=expected_version)


def _submitted_with(session: Session, app_id: int, token: str) -> bool:
    from formflow.usecases.submit import submitted_with

    return submitted_with(session, app_id, token)


def withdraw(session: Session, app_id: int, *, actor: Account, expected_version: int | None,
             reason: str | None = None, storage: Any = None, renderers: Any = None, keys: Any = None,
             today: date | None = None, calendar: Any = None) -> Application:
    """`usecases.withdraw.withdraw` for callers holding its parts rather than `Services`."""
    from formflow.usecases.withdraw import withdraw as withdraw_usecase

    given = _Given(keys, today or date.today(), calendar, storage, renderers)
    return withdraw_usecase(given, session, actor, app_id, reason, expected_version)


__all__ = [
    "all_errors", "AlreadySubmitted", "ApplicationError", "apply_computed", "category_of", "category_path",
    "checklist", "checklist_errors", "discard_draft", "DuplicateHousehold", "elicence_values", "fetch_elicences",
    "find_draft", "form_of", "has_consent", "household", "household_in", "Incomplete", "load", "may_edit", "may_view",
    "new_submit_token", "NotEditable", "pinned_of", "precheck", "Precheck", "record_consent", "save_draft",
    "selectable_offices", "StaleDraft", "start_draft", "step_errors", "submit", "validation_errors", "variables",
    "withdraw",
]
