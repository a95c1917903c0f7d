"""Reviewer desk: the queue, one application's file, marking its table, acting on it.

Every page works without JavaScript (plain forms, the server re-renders);
static/desk.js only improves it (live outcome of the marking, showing the
reason box). No inline script or style: CSP.

Reach: a reviewer sees an application only when it lies under one of the
offices where they hold a role owning a stage of its pack's workflow
(`queue.reach_of`); anything else answers 404. Every change of an
application goes through the workflow engine (or `reviews.record_marking`
for a marking), in one transaction with its history event.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, flash, make_response, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from formflow.auth.current import current_account
from formflow.db.models import (
    Account,
    Application,
)
from formflow.reviews import queue as queue_mod
from formflow.reviews import stage_forms
from formflow.reviews.tables import (
    FAIL,
    NA,
    PASS,
    MarkingInvalid,
)
from formflow.text import formatting as fmt
from formflow.text.catalogue import _
from formflow.text.errors import FieldProblem, Refusal
from formflow.usecases import review, serving, viewing
from formflow.web.context import services, sessions
from formflow.workflow.errors import (
    ActionNotAvailable,
    ReasonRequired,
    StaleApplication,
    WorkflowError,
)

bp = Blueprint("desk", __name__, url_prefix="/desk")

PAGE_SIZE = 20
NOTE_MAX = 2000


# --------------------------------------------------------------------------- wiring

def reviewer_required(view):
    """Signed in with at least one role held at an office; anyone else gets 404."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        account = current_account()
        if account is None:
            return redirect(url_for("auth.login", next=request.full_path))
        if not any(r.office_id for r in account.roles):
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def _reviewer() -> Account:
    """The signed-in reviewer (`reviewer_required` has let only them through)."""
    account = current_account()
    if account is None:
        abort(404)
    return account


def _reach(db: Session, account: Account) -> list[queue_mod.Reach]:
    return review.reach(services(), db, account)


def _load(db: Session, app_id: int, account: Account) -> tuple[Application, list[queue_mod.Reach]]:
    """The application within the reviewer's reach; `review.NotInReach` (a 404 page) otherwise."""
    reach = _reach(db, account)
    return review.load(services(), db, account, app_id, within=reach), reach


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- queue

@bp.get("/")
@reviewer_required
def queue():
    account = _reviewer()
    filters = queue_mod.Filters.from_args(request.args)
    cursor = request.args.get("after") or None
    with sessions()() as db:
        found = review.queue(services(), db, account, filters, review.PageRequest(cursor, PAGE_SIZE))
        options = _filter_options(db, account)
    next_url = None
    if found.next_cursor:
        next_url = url_for("desk.queue", **filters.as_args(), after=found.next_cursor)
    return render_template("desk/queue.html", rows=found.rows, filters=filters, options=options,
                           next_url=next_url, first_page=cursor is None, account=account)


def _filter_options(db: Session, account: Account) -> review.FilterOptions:
    """Stages the reviewer owns, and categories and channels of the packs they review."""
    return review.queue_filters(services(), db, account)


# --------------------------------------------------------------------------- detail

def _detail_context(db: Session, app_id: int, account: Account, *, view: viewing.StaffView | None = None,
                    **extra: Any) -> dict[str, Any]:
    """The detail page: the staff view (formatted, masked, recorded) and what this reviewer may do now."""
    if view is None:
        view = viewing.staff_view(services(), db, account, app_id)
    from formflow.db.models import Application
    from formflow.usecases.elicence_provenance import provenance_of

    app = db.get(Application, app_id)  # within reach: staff_view checked it
    return {
        "view": view,
        "provenance": provenance_of(services(), db, app) if app is not None else [],
        "work": review.stages_at_hand(services(), db, account, app_id), "verdicts": review.VERDICTS,
        "marking_errors": {}, "marking_input": {}, "action_errors": {}, "stale": None, "form": {},
        **extra,
    }


@bp.get("/applications/<int:app_id>")
@reviewer_required
def detail(app_id: int):
    account = _reviewer()
    with sessions()() as db:
        view = viewing.staff_view(services(), db, account, app_id)  # reach; e-licence views recorded first
        context = _detail_context(db, app_id, account, view=view)
    return render_template("desk/detail.html", **context)


def _revealed(app_id: int, **reveal: bool) -> Response:
    """The detail page with one number in full: on this response only, recorded in the access log."""
    account = _reviewer()
    with sessions()() as db:
        view = viewing.staff_view(services(), db, account, app_id, **reveal)
        response = Response(render_template("desk/detail.html", **_detail_context(db, app_id, account, view=view)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/applications/<int:app_id>/full-id-number")
@reviewer_required
def full_id_number(app_id: int):
    """The applicant's full ID number."""
    return _revealed(app_id, full_id=True)


@bp.post("/applications/<int:app_id>/full-mobile")
@reviewer_required
def full_mobile(app_id: int):
    """The applicant's full mobile number."""
    return _revealed(app_id, full_mobile=True)


def _rerender(app_id: int, status: int, **extra: Any):
    account = _reviewer()
    with sessions()() as db:
        return render_template("desk/detail.html", **_detail_context(db, app_id, account, **extra)), status


def _stale_text(exc: StaleApplication) -> str:
    return exc.message


@bp.errorhandler(Refusal)
def _refusal(exc: Refusal):
    """A refusal no view caught (e.g. not in reach: 404): the error page, with the code the API gives."""
    from formflow.web.errors import refusal

    response = make_response(refusal(exc))
    response.headers["X-Refusal-Code"] = exc.code
    return response


def _refused(page: tuple[str, int], exc: Refusal):
    """A page answering a refusal: its code in a header, as the API gives it in the body."""
    body, status = page
    response = Response(body, status=status, mimetype="text/html")
    response.headers["X-Refusal-Code"] = exc.code
    return response


# --------------------------------------------------------------------------- files and notices

@bp.get("/applications/<int:app_id>/files/<sha256>")
@reviewer_required
def file(app_id: int, sha256: str):
    """Framed or shown by the desk page (inline), or downloaded (`?download=1`): the one serving policy."""
    with sessions()() as db:
        served = serving.open_file(services(), db, _reviewer(), app_id, sha256,
                                   inline=request.args.get("download") != "1")
    return Response(served.body, mimetype=served.media_type, headers=served.headers)


@bp.get("/applications/<int:app_id>/approval-form.pdf")
@reviewer_required
def approval_form(app_id: int):
    """The approval form, pre-filled, with the opinions so far."""
    from formflow.usecases import printouts

    with sessions()() as db:
        served = printouts.approval_form(services(), db, _reviewer(), app_id)
    return Response(served.body, mimetype=served.media_type, headers=served.headers)


@bp.get("/applications/<int:app_id>/notices/<int:notice_id>")
@reviewer_required
def notice(app_id: int, notice_id: int):
    with sessions()() as db:
        served = serving.open_notice(services(), db, _reviewer(), notice_id, app_id=app_id)
    return Response(served.body, mimetype=served.media_type, headers=served.headers)


# --------------------------------------------------------------------------- marking

def parse_marking(table: dict[str, Any], form: Any) -> dict[str, Any]:
    """Posted radios `r<no>.c<i>` and notes `r<no>.note` → a marking (gaps stay None)."""
    rows: dict[str, Any] = {}
    for row in table.get("rows") or []:
        key = str(row.get("no"))
        verdicts = []
        for i, _criterion in enumerate(row.get("criteria") or []):
            value = (form.get(f"r{key}.c{i}") or "").strip()
            verdicts.append(value if value in (PASS, FAIL, NA) else None)
        entry: dict[str, Any] = {"criteria": verdicts}
        note = (form.get(f"r{key}.note") or "").strip()[:NOTE_MAX]
        if note:
            entry["note"] = note
        rows[key] = entry
    marking: dict[str, Any] = {"rows": rows}
    overall = (form.get("note") or "").strip()[:NOTE_MAX]
    if overall:
        marking["note"] = overall
    return marking


def marking_errors(fields: list[FieldProblem]) -> dict[str, str]:
    """A refused marking's problems, keyed by the place they are shown: `r<no>.c<i>`, `r<no>.note`, `r<no>`."""
    out: dict[str, str] = {}
    for problem in fields:
        parts = [p for p in problem.pointer.split("/")[1:] if p != ""]
        if len(parts) >= 2 and parts[0] == "form":  # a stage form's field: `f.<field>`
            key = f"f.{parts[1]}"
        elif len(parts) >= 2 and parts[0] == "rows":
            row = parts[1]
            if len(parts) >= 4 and parts[2] == "criteria":
                key = f"r{row}.c{parts[3]}"
            elif len(parts) >= 3 and parts[2] == "note":
                key = f"r{row}.note"
            else:
                key = f"r{row}"
        else:
            key = "note"
        out.setdefault(key, problem.message)
    return out


@bp.post("/applications/<int:app_id>/stages/<stage_id>/marking")
@reviewer_required
def mark(app_id: int, stage_id: str):
    account = _reviewer()
    marking: dict[str, Any] = {}
    try:
        with sessions().begin() as db:
            form = review.marking_form(services(), db, account, app_id, stage_id)
            marking = parse_marking(form.table, request.form)
            if form.form:  # the stage's own fields, posted as `f.<field>` with the marking
                marking["form"] = stage_forms.posted_values(form.form, request.form)
            done = review.mark(services(), db, account, app_id, stage_id, marking,
                               expected_version=_int(request.form.get("expected_version")))
    except MarkingInvalid as exc:
        flash(exc.message, "error")
        return _refused(_rerender(app_id, 400, marking_errors={stage_id: marking_errors(exc.fields)},
                                  marking_input={stage_id: exc.marking or marking}), exc)
    except StaleApplication as exc:
        return _refused(_rerender(app_id, 409, stale=_stale_text(exc)), exc)
    flash(_("Review table saved; outcome: %(outcome)s", outcome=done.outcome_title), "info")
    return redirect(url_for("desk.detail", app_id=app_id) + f"#stage-{stage_id}")


# --------------------------------------------------------------------------- actions

def _irreversible(offer: review.ActionOffer | None) -> bool:
    """Whether to ask for confirmation first: the use case decides which actions cannot be undone."""
    return offer is not None and offer.allowed and offer.irreversible


@bp.post("/applications/<int:app_id>/act")
@reviewer_required
def act(app_id: int):
    account = _reviewer()
    stage_id = (request.form.get("stage") or "")[:64]
    action_id = (request.form.get("action") or "")[:64]
    expected = _int(request.form.get("expected_version"))
    note = (request.form.get("note") or "").strip()[:NOTE_MAX] or None
    materials = [m[:64] for m in request.form.getlist("materials")][:50]
    confirmed = request.form.get("confirmed") == "1"
    form_echo = {"stage": stage_id, "action": action_id, "note": note or "", "materials": materials}
    key = f"{stage_id}.{action_id}"
    with sessions()() as db:
        offered = review.available_actions(services(), db, account, app_id)
    offer = offered.find(stage_id, action_id)
    if not stage_id or not action_id or expected is None:
        abort(400)
    early = review.refusal_before_acting(offer, note)
    if early is not None:
        return _refused(_rerender(app_id, 400, action_errors={key: early.message}, form=form_echo), early)
    if _irreversible(offer) and not confirmed:
        return render_template("desk/confirm.html", offered=offered, offer=offer, note=note, materials=materials,
                               expected=expected)
    try:
        with sessions().begin() as db:
            done = review.act(services(), db, account, app_id, action_id, stage=stage_id, note=note,
                              materials=materials, expected_version=expected)
    except StaleApplication as exc:
        return _refused(_rerender(app_id, 409, stale=_stale_text(exc)), exc)
    except ReasonRequired as exc:
        return _refused(_rerender(app_id, 400, action_errors={key: exc.message}, form=form_echo), exc)
    except ActionNotAvailable as exc:
        flash(exc.message, "error")
        return _refused(_rerender(app_id, 409), exc)
    if done.status == "closed":
        where = _("Closed: %(stages)s", stages=done.stage_titles)
    else:
        where = _("Now at: %(stages)s", stages=done.stage_titles)
    message = _("Done: %(number)s %(action)s. %(where)s", number=done.number, action=done.action_title, where=where)
    if done.notices:
        issued = _(", ").join(_("%(title)s (%(number)s)", title=n.title, number=n.number) for n in done.notices)
        message += _(" Issued: %(notices)s.", notices=issued)
    flash(message, "info")
    return redirect(url_for("desk.queue"))


# --------------------------------------------------------------------------- objections (timer stages)

@bp.post("/applications/<int:app_id>/stages/<stage_id>/objections")
@reviewer_required
def record_objection(app_id: int, stage_id: str):
    account = _reviewer()
    note = (request.form.get("note") or "").strip()[:NOTE_MAX]
    expected = _int(request.form.get("expected_version"))
    if expected is None:
        with sessions()() as db:
            _load(db, app_id, account)
        abort(400)
    try:
        with sessions().begin() as db:
            review.record_objection(services(), db, account, app_id, stage_id, note=note, expected_version=expected)
    except StaleApplication as exc:
        return _refused(_rerender(app_id, 409, stale=_stale_text(exc)), exc)
    except ReasonRequired as exc:
        return _refused(_rerender(app_id, 400, action_errors={f"{stage_id}.objection": exc.message}), exc)
    except ActionNotAvailable as exc:
        flash(exc.message, "error")
        return _refused(_rerender(app_id, 409), exc)
    flash(_("Objection recorded; it must be verified before the notice period ends."), "info")
    return redirect(url_for("desk.detail", app_id=app_id) + f"#stage-{stage_id}")


@bp.post("/applications/<int:app_id>/objections/<int:objection_id>/dismiss")
@reviewer_required
def dismiss_objection(app_id: int, objection_id: int):
    account = _reviewer()
    note = (request.form.get("note") or "").strip()[:NOTE_MAX] or None
    expected = _int(request.form.get("expected_version"))
    if expected is None:
        with sessions()() as db:
            _load(db, app_id, account)
        abort(400)
    try:
        with sessions().begin() as db:
            review.dismiss_objection(services(), db, account, app_id, objection_id, note=note,
                                     expected_version=expected)
    except StaleApplication as exc:
        return _refused(_rerender(app_id, 409, stale=_stale_text(exc)), exc)
    except WorkflowError as exc:
        flash(exc.message, "error")
        return _refused(_rerender(app_id, 409), exc)
    flash(_("Recorded: the objection does not hold; the application moves on when the notice period ends."), "info")
    return redirect(url_for("desk.detail", app_id=app_id))


# --------------------------------------------------------------------------- template helpers

# The desk's old filter names (desk/queue.html still uses `desk_date`): the shared formatter's functions.

@bp.app_template_filter("desk_mask")
def _mask_filter(value: Any) -> str:
    return fmt.mask_id(value)


@bp.app_template_filter("desk_number")
def _number_filter(value: Any) -> str:
    return fmt.number(value)


@bp.app_template_filter("desk_date")
def _date_filter(value: Any) -> str:
    return fmt.when(value)


# The header's queue counts register on `bp` (imported last: it imports this module).
from formflow.web import desk_counts as _desk_counts  # noqa: E402,F401
