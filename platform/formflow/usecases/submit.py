"""Submit a draft: lock, then read, then validate, then enter the workflow — once, whoever asks how often.

The row is locked before anything of it is read (`SELECT … FOR UPDATE` on PostgreSQL, the write
lock on SQLite), so of several simultaneous submits of one draft the first enters the workflow and
the others, once they get the row, see it submitted: the same token gets the same application back
(a double click, a retry after a lost response), another token a clear `AlreadySubmitted` (409).

Validation is the pinned form, the material checklist, every file reference (this application's own
uploads only) and drawn signature, and the duplicate-household check: a member of the household may
not be in another application of the matter that is in progress, approved, or whose household is on
the waiting list, housed or receiving a subsidy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from formflow.allocation.config import HOUSED, OFFERED, SUBSIDISED, WAITING
from formflow.applications import drafts
from formflow.applications.errors import AlreadySubmitted, DuplicateHousehold, Incomplete, StaleDraft
from formflow.db.models import Account, Application, ApplicationFile, Event, Household, HouseholdMember
from formflow.forms.errors import FieldError
from formflow.forms.formats import mask_id_number
from formflow.forms.render import delete_path, get_path, set_path
from formflow.text.catalogue import DEFAULT_LOCALE, _, in_locale
from formflow.usecases.files import ApplicationNotFound, materials_problems
from formflow.workflow.errors import StaleApplication
from formflow.workflow.moves import current_state, workflow_of

SUBMIT_EVENT = "submit"
#: The workflow result of an approved application (its household may then be housed or subsidised).
APPROVED = "approved"
#: Household statuses that still count as "this household is provided for".
LIVE_HOUSEHOLD = (WAITING, OFFERED, HOUSED, SUBSIDISED)


def submitted_with(db: Session, app_id: int, token: str) -> bool:
    """Was this application submitted with this token (the one `submit` event says so)?"""
    done = db.scalar(select(Event).where(Event.application_id == app_id, Event.action == SUBMIT_EVENT))
    return done is not None and (done.details or {}).get("token") == token


def household_clash(db: Session, app: Application, hashes: list[str]) -> str | None:
    """The first member hash already in another application of the matter that counts, or None.

    Counted: applications in progress; approved applications, unless their household has since
    left allocation (removed from the waiting list, flat recovered, subsidy stopped).
    """
    if not hashes:
        return None
    return db.execute(_clashing(app, hashes).order_by(HouseholdMember.id).limit(1)).scalar()


def _clashing(app: Application | None, hashes: list[str] | None):
    """The member hashes of other applications of the matter that count (see `household_clash`).

    `app` and `hashes` None: the same statement with bound parameters `app_id`, `matter` and `hashes`.
    """
    app_id: Any = bindparam("app_id", type_=Integer) if app is None else app.id
    matter: Any = bindparam("matter", type_=String) if app is None else app.matter
    wanted: Any = bindparam("hashes", expanding=True) if hashes is None else hashes
    live = or_(
        Application.status == "active",
        and_(Application.status == "closed", Application.result == APPROVED,
             or_(Household.id.is_(None), Household.status.in_(LIVE_HOUSEHOLD))),
    )
    return (
        select(HouseholdMember.id_hash)
        .join(Application, Application.id == HouseholdMember.application_id)
        .outerjoin(Household, Household.application_id == Application.id)
        .where(HouseholdMember.matter == matter, HouseholdMember.id_hash.in_(wanted),
               HouseholdMember.active.is_(True), Application.id != app_id, live)
    )


def _lock_for_submit(db: Session, actor: Account | None, app_id: int) -> tuple[Application, set[str]]:
    """The draft, locked, with the files its applicant or clerk uploaded to it — one statement.

    SQLite: a no-op UPDATE … RETURNING takes the database's write lock and reads
    the row. PostgreSQL: SELECT … FOR UPDATE, and in the same statement the
    transaction's advisory lock on the matter's households, so that the
    duplicate-household check that follows sees every submission committed
    before it (submissions of one matter queue there; drafts of other matters
    do not wait).
    """
    row = db.execute(_lock_statement(db.get_bind().dialect.name == "sqlite"), {"app_id": app_id}).first()
    if row is None or actor is None or actor.id not in (row[0].applicant_id, row[0].assisted_by_id):
        raise ApplicationNotFound(app_id)
    app = row[0]
    uploaders = {str(i) for i in (app.applicant_id, app.assisted_by_id) if i is not None}
    pairs = (entry.rpartition(":") for entry in (row[1] or "").split(",") if entry)
    return app, {sha for sha, _sep, who in pairs if who in uploaders}


@functools.cache
def _lock_statement(sqlite: bool) -> Any:
    """`_lock_for_submit`'s statement, built once per kind of database (the id is the parameter `app_id`)."""
    app_id = bindparam("app_id", type_=Integer)
    # "sha:uploader" of the files on the application, not correlated (SQLite's RETURNING drops the
    # table names, so `applications.id` inside it would read the files' own id); uploaders are checked below
    uploads = (
        select(func.aggregate_strings(ApplicationFile.sha256 + literal(":", String)
                                      + func.cast(ApplicationFile.uploaded_by, String), ","))
        .where(ApplicationFile.application_id == app_id, ApplicationFile.replaced_at.is_(None))
        .scalar_subquery()
    )
    if sqlite:
        return (update(Application).where(Application.id == app_id).values(version=Application.version)
                .returning(Application, uploads)
                .execution_options(populate_existing=True, synchronize_session=False))
    matter_lock = func.pg_advisory_xact_lock(func.hashtext(literal("household:", String) + Application.matter))
    return (select(Application, uploads, matter_lock).where(Application.id == app_id)
            .with_for_update(of=Application).execution_options(populate_existing=True))


@functools.cache
def _claim_statement(count: int) -> Any:
    """`_claim_household`'s statement for `count` distinct members, built once (parameters bound at execution)."""
    rows = union_all(*(select(bindparam(f"h{k}", type_=String).label("id_hash")) for k in range(count))).subquery() \
        if count > 1 else select(bindparam("h0", type_=String).label("id_hash")).subquery()
    chosen = (select(bindparam("app_id", type_=Integer), bindparam("matter", type_=String), rows.c.id_hash, true())
              .where(~exists(_clashing(None, None))))
    table = HouseholdMember.__table__
    return insert(table).from_select(["application_id", "matter", "id_hash", "active"], chosen).returning(table.c.id)


def _claim_household(db: Session, app: Application, hashes: list[str]) -> bool:
    """Record the household's members unless one is in another application that counts — one statement.

    The members are inserted by `INSERT … SELECT … WHERE NOT EXISTS (clash)`:
    all or none, under the lock `_lock_for_submit` took. False: one clashed
    (nothing was written; `household_clash` then says which).
    """
    distinct = list(dict.fromkeys(hashes))
    if not distinct:
        return True
    params = {"app_id": app.id, "matter": app.matter, "hashes": distinct,
              **{f"h{k}": h for k, h in enumerate(distinct)}}
    done = db.execute(_claim_statement(len(distinct)), params).all()  # rows: psycopg reports -1 for INSERT … SELECT
    return len(done) == len(distinct)


def _warnings(pinned: Any, data: dict[str, Any], today: Any, scope: dict[str, Any] | None = None) -> list[str]:
    """Eligibility conditions of the pre-check that do not hold (shown to the citizen before submitting).

    As `drafts.precheck(…).eligibility`, without the pre-check's titles: the conditions of the category of
    the pruned data, against `scope` (the rule variables of that data) when the caller has it.
    """
    pruned = drafts.form_of(pinned).pruned(data)
    category = drafts.category_of(pinned, pruned)
    eligibility = pinned.ruleset.eligibility(category, pruned, today, scope) if category else None
    if eligibility is None:
        return []
    return [str(c.id) for c in eligibility.conditions if c.holds is not True]


@dataclass
class _Prepared:
    """The data as submitted, and what one walk of the form found for it (None: walk again)."""

    data: dict[str, Any]
    nodes: list[Any] | None  # the form's nodes for `data` (which is its own pruned form)
    scope: dict[str, Any] | None  # the rule variables of `data`


def _prepare(pinned: Any, form: Any, raw: dict[str, Any], today: Any) -> _Prepared:
    """`apply_computed(pinned, form.prune_hidden(raw), today)`, the form walked once for what follows.

    The walk and the rule variables hold for the result when nothing was hidden in the pruned data and
    writing the computed values changed nothing (the draft's last save wrote them): the household and the
    pre-check then reuse them. Otherwise they are None and each is worked out again, as before.
    """
    data = form.prune_hidden(raw)  # a copy: the row's data is not changed
    read = form.pruned(data)
    scope = pinned.ruleset.variables(read, today)
    values = scope["computed"]
    nodes = form.fields(data)
    changed = read is not data
    for node in nodes:
        if not node.computed or node.computed not in values:
            continue
        value = values[node.computed]
        if value is None:
            changed = delete_path(data, node.path) or changed
        else:
            changed = changed or not _same(get_path(data, node.path), value)
            set_path(data, node.path, value)
    return _Prepared(data, None, None) if changed else _Prepared(data, nodes, scope)


def _same(old: Any, new: Any) -> bool:
    """Equal and of the same JSON type (True == 1 in Python, not in JSON); containers compared deeply."""
    if type(old) is not type(new):
        return False
    if isinstance(new, dict):
        return old.keys() == new.keys() and all(_same(old[k], new[k]) for k in new)
    if isinstance(new, list):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new, strict=True))
    return bool(old == new)



@dataclass
class BeforeSubmit:
    """What the citizen sees before submitting: every problem (as submit would refuse it), the pre-check."""

    app: Application
    errors: list[Any]  # FieldError: pointer, message, path
    precheck: Any  # usecases.viewing.PrecheckView: every value formatted as a person reads it (or None)
    checklist: list[Any]  # ChecklistItem
    provided: dict[str, bool]  # item field -> provided
    steps: list[Any]
    matter_title: str


def before_submit(services: Any, db: Session, actor: Account, app_id: int) -> BeforeSubmit:
    """The confirmation page's content: the same checks `submit` makes, without changing anything."""
    app = db.get(Application, app_id)
    if app is None or actor is None or actor.id not in (app.applicant_id, app.assisted_by_id):
        raise ApplicationNotFound(app_id)
    today = services.today()
    pinned = drafts.pinned_of(db, app)
    form = drafts.form_of(pinned)
    data = app.data or {}
    errors = drafts.all_errors(pinned, data, today)
    seen = {(e.pointer, e.message) for e in errors}
    pruned = form.prune_hidden(dict(data))
    errors += [FieldError(p.pointer, p.message) for p in materials_problems(db, app, pruned)
               if (p.pointer, p.message) not in seen]
    items = drafts.checklist(pinned, data, today)
    from formflow.applications.materials import provided
    from formflow.usecases.viewing import precheck_view

    return BeforeSubmit(app=app, errors=errors, precheck=precheck_view(pinned, data, today), checklist=items,
                        provided={i.field: provided(i, pruned) for i in items}, steps=form.steps(),
                        matter_title=str((pinned.manifest.get("matter") or {}).get("title", app.matter)))


def submit(
    services: Any,
    db: Session,
    actor: Account,
    app_id: int,
    *,
    token: str,
    channel: str,
    confirm_warnings: bool = False,
    expected_version: int | None = None,
) -> Application:
    """Submit the draft `app_id` as `actor` (its applicant or assisting clerk) through `channel`.

    `token` makes it idempotent. `confirm_warnings`: the person saw the pre-check's unmet conditions
    and submits anyway (the pre-check only advises; it is recorded in the submit event).
    """
    app, uploads = _lock_for_submit(db, actor, app_id)
    if app.status != "draft":
        if token and submitted_with(db, app.id, token):
            return app
        raise AlreadySubmitted(_("This application has already been submitted; there is no need to submit it "
                                 "again."), current=current_state(app, workflow_of(db, app)))
    if expected_version is not None and app.version != int(expected_version):
        raise StaleDraft(app.version)
    today = services.today()
    pinned = drafts.pinned_of(db, app)
    form = drafts.form_of(pinned)
    prepared = _prepare(pinned, form, app.data or {}, today)
    data = prepared.data
    errors = drafts.all_errors(pinned, data, today)
    seen = {(e.pointer, e.message) for e in errors}
    errors += [FieldError(p.pointer, p.message) for p in materials_problems(db, app, data, uploads=uploads)
               if (p.pointer, p.message) not in seen]
    if errors:
        raise Incomplete(errors)
    # one household, one application of the matter — for applications; a person may file many complaints
    checks_household = (pinned.manifest.get("matter") or {}).get("kind", "application") == "application"
    members = [] if not checks_household else (
        drafts.household(pinned, data) if prepared.nodes is None else drafts.household_in(prepared.nodes, data))
    hashes = [services.keys.lookup(number) for _name, number in members]
    if not _claim_household(db, app, hashes):
        clash = household_clash(db, app, hashes)
        name, number = members[hashes.index(clash)] if clash in hashes else members[0]
        raise DuplicateHousehold(name or _("(name not given)"), mask_id_number(number))
    warnings = _warnings(pinned, data, today, prepared.scope)
    app.data = data
    app.status = "active"
    app.category = drafts.category_of(pinned, data)
    app.submitted_at = services.now()
    app.household_hashes = hashes
    if not app.number:
        app.number = f"{app.submitted_at:%Y%m%d}{app.id:06d}"
    from formflow.workflow.engine import enter_workflow

    try:  # the one flush: the application, its stage rows, its clocks and the submit event
        enter_workflow(db, app, actor, calendar=services.calendar(app.pack), today=today, fresh=True,
                       note=in_locale(DEFAULT_LOCALE, "Submitted online" if app.assisted_by_id is None
                                      else "Submitted at the service-hall window"),
                       details={"token": token, "channel": app.channel, "via": channel, "warnings": warnings,
                                "warnings_confirmed": bool(confirm_warnings)})
    except StaleApplication:
        raise StaleDraft(int(db.scalar(select(Application.version).where(Application.id == app.id)) or 0)) from None
    return app


__all__ = ["APPROVED", "LIVE_HOUSEHOLD", "SUBMIT_EVENT", "BeforeSubmit", "before_submit", "household_clash", "submit",
           "submitted_with"]
