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

from dataclasses import dataclass, field
from datetime import date
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.applications import drafts as apps
from formflow.auth.current import current_account
from formflow.db.models import (
    Account,
    Application,
    Objection,
    Office,
)
from formflow.packs.versions import Pinned, load_pinned
from formflow.reviews import queue as queue_mod
from formflow.reviews.tables import FAIL, NA, PASS, VERDICT_TITLES, latest_marking, record_marking, validate_marking
from formflow.text import formatting as fmt
from formflow.text.catalogue import _
from formflow.usecases import serving, viewing
from formflow.web.context import calendar_for, formflow, packs, services, sessions
from formflow.workflow import engine
from formflow.workflow.access import authority
from formflow.workflow.errors import (
    ActionNotAvailable,
    ObjectionError,
    ReasonRequired,
    StaleApplication,
    WorkflowError,
)
from formflow.workflow.history import HIDDEN_FROM_REVIEWERS
from formflow.workflow.moves import workflow_of
from formflow.workflow.spec import WorkflowSpec

bp = Blueprint("desk", __name__, url_prefix="/desk")

PAGE_SIZE = 20
NOTE_MAX = 2000
VERDICTS = [(PASS, VERDICT_TITLES[0]), (FAIL, VERDICT_TITLES[1]), (NA, VERDICT_TITLES[2])]
STATUS_TITLES = {"draft": "草稿", "active": "办理中", "closed": "已办结"}
HIDDEN_EVENTS = HIDDEN_FROM_REVIEWERS
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}
LEVEL_TITLES = engine.LEVEL_TITLES
OUTCOME_TITLES = engine.OUTCOME_TITLES
MESSAGES = {
    "not_found": "申请不存在或不在您的办理范围内",
    "stale": "该申请已被他人处理",
    "choose": "请选择：符合、不符合或不适用",
    "note_on_fail": "选择“不符合”时须填写不符合的说明",
    "reason": "请填写理由",
    "objection_note": "请填写异议内容",
    "marking_saved": "审查表已保存，结论：{outcome}",
    "marking_invalid": "审查表有 {n} 处需要补充，请检查标红的项目",
    "done": "已办理：{number} {action}。{where}",
    "no_table": "本环节没有审查表",
}


# --------------------------------------------------------------------------- wiring

def _ext() -> dict[str, Any]:
    return formflow()


def _today() -> date:
    from formflow.web.context import today

    return today()


def _calendar(pack: str):
    return calendar_for(pack)


def _storage():
    from formflow.web.context import services

    return services().storage


def _renderers():
    return _ext()["settings"].renderers_dir


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


def _reach(db: Session, account: Account) -> list[queue_mod.Reach]:
    return queue_mod.reach_of(db, account.id, packs())


def _load(db: Session, app_id: int, account: Account) -> tuple[Application, list[queue_mod.Reach]]:
    reach = _reach(db, account)
    if not queue_mod.in_reach(db, app_id, reach):
        abort(404)
    app = db.get(Application, app_id)
    if app is None:
        abort(404)
    return app, reach


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- titles

def _category_title(pinned: Pinned, category: str | None) -> str:
    return pinned.category_title(category)


def _channel_title(pinned: Pinned, channel: str | None) -> str:
    return pinned.channel_title(channel)


def _stage_titles(spec: WorkflowSpec, stages: list[str] | None) -> str:
    return _(", ").join(spec.stages[s].title if s in spec.stages else s for s in stages or [])


def _masked_applicant(db: Session, account_ids: set[int]) -> dict[int, tuple[str, str]]:
    keys = _ext()["keys"]
    out: dict[int, tuple[str, str]] = {}
    if not account_ids:
        return out
    for acc in db.scalars(select(Account).where(Account.id.in_(account_ids))):
        masked = ""
        if acc.id_number_enc:
            try:
                masked = fmt.mask_id(keys.open(acc.id_number_enc))
            except Exception:  # noqa: BLE001 - an unreadable number is shown as absent
                masked = ""
        out[acc.id] = (acc.display_name, masked)
    return out


# --------------------------------------------------------------------------- queue

@bp.get("/")
@reviewer_required
def queue():
    account = current_account()
    filters = queue_mod.Filters.from_args(request.args)
    cursor = request.args.get("after") or None
    with sessions()() as db:
        page = queue_mod.queue_page(db, account.id, filters=filters, after=cursor, limit=PAGE_SIZE,
                                    packset=packs())
        people = _masked_applicant(db, {a.applicant_id for a in page.items})
        offices = {o.id: o for o in db.scalars(
            select(Office).where(Office.id.in_({a.office_id for a in page.items if a.office_id})))}
        rows = []
        for app in page.items:
            pinned = load_pinned(db, app.versions)
            spec = workflow_of(db, app)
            name, masked = people.get(app.applicant_id, ("", ""))
            rows.append({
                "id": app.id, "number": app.number or str(app.id), "applicant": name, "id_masked": masked,
                "category": _category_title(pinned, app.category),
                "channel": _channel_title(pinned, app.channel),
                "stages": _stage_titles(spec, app.stages),
                "office": offices[app.office_id].name if app.office_id in offices else "",
                "submitted": app.submitted_at, "deadline": app.deadline, "overdue": app.overdue,
            })
        options = _filter_options(db, page.reach)
    next_url = None
    if page.next_cursor:
        next_url = url_for("desk.queue", **filters.as_args(), after=page.next_cursor)
    return render_template("desk/queue.html", rows=rows, filters=filters, options=options,
                           next_url=next_url, first_page=cursor is None, account=account)


def _filter_options(db: Session, reach: list[queue_mod.Reach]) -> dict[str, list[tuple[str, str]]]:
    """Stages the reviewer owns, and categories and channels of the packs they review."""
    stages: dict[str, str] = {}
    categories: dict[str, str] = {}
    channels: dict[str, str] = {}
    packset = packs()
    for r in reach:
        for spec in queue_mod.workflow_specs(db, r.pack, packset):
            for sid in r.stages:
                if sid in spec.stages:
                    stages.setdefault(sid, spec.stages[sid].title)
        pack = packset.packs.get(r.pack)
        if pack is None:
            continue
        for entry in pack.manifest.content.get("channels") or []:
            channels.setdefault(str(entry.get("id")), str(entry.get("title") or entry.get("id")))
        for matter in pack.matters.values():
            mats = matter.materials.content if matter.materials else {}
            for cid, cat in (mats.get("categories") or {}).items():
                categories.setdefault(cid, str(cat.get("title") or cid))
    return {"stages": list(stages.items()), "categories": list(categories.items()),
            "channels": list(channels.items())}


# --------------------------------------------------------------------------- detail

@dataclass
class StageDesk:
    """What the reviewer may do at one current stage they own."""

    id: str
    title: str
    is_timer: bool
    table_id: str | None
    table: dict[str, Any] | None
    marking: dict[str, Any] | None
    outcome: str | None
    actions: list[Any] = field(default_factory=list)
    objections: list[Objection] = field(default_factory=list)
    accepts_objections: bool = False
    not_required: set[str] = field(default_factory=set)


def _stage_desks(db: Session, app: Application, account: Account, spec: WorkflowSpec, pinned: Pinned,
                 today: date) -> list[StageDesk]:
    actions = engine.available_actions(db, app, account, today=today)
    try:
        required = {i.kind for i in apps.checklist(pinned, app.data or {}, today)}
    except Exception:  # noqa: BLE001 - a checklist problem must not hide the table
        required = set()
    out = []
    for stage_id in app.stages or []:
        stage = spec.stages.get(stage_id)
        if stage is None or stage.owner is None or app.status != "active":
            continue
        if authority(db, app, account, stage.owner.role, stage.owner.level) is None:
            continue
        table = pinned.table(stage.table) if stage.table else None
        latest = latest_marking(db, app.id, stage.id, stage.table) if stage.table else None
        objections = list(db.scalars(select(Objection).where(
            Objection.application_id == app.id, Objection.stage == stage.id).order_by(Objection.id)))
        rows = (table or {}).get("rows") or []
        out.append(StageDesk(
            id=stage.id, title=stage.title, is_timer=stage.is_timer, table_id=stage.table, table=table,
            marking=latest.marking if latest else None, outcome=latest.outcome if latest else None,
            actions=[a for a in actions if a.stage == stage.id], objections=objections,
            accepts_objections=stage.is_timer and stage.objections,
            not_required={str(r.get("no")) for r in rows if r.get("material") and required
                          and r["material"] not in required},
        ))
    return out


def _detail_context(db: Session, app: Application, account: Account, *, view: viewing.StaffView | None = None,
                    **extra: Any) -> dict[str, Any]:
    """The detail page: the staff view (formatted, masked, recorded) and what this reviewer may do now."""
    if view is None:
        view = viewing.staff_view(services(), db, account, app.id)
    pinned = load_pinned(db, app.versions)
    spec = workflow_of(db, app)
    return {
        "app": app, "view": view, "spec": spec,
        "desks": _stage_desks(db, app, account, spec, pinned, _today()),
        "verdicts": VERDICTS, "outcome_titles": OUTCOME_TITLES,
        "materials_kinds": (pinned.materials.get("kinds") or {}),
        "marking_errors": {}, "marking_input": {}, "action_errors": {}, "stale": None, "form": {},
        **extra,
    }


@bp.get("/applications/<int:app_id>")
@reviewer_required
def detail(app_id: int):
    account = current_account()
    with sessions()() as db:
        view = viewing.staff_view(services(), db, account, app_id)  # reach; e-licence views recorded first
        context = _detail_context(db, db.get(Application, app_id), account, view=view)
    return render_template("desk/detail.html", **context)


@bp.post("/applications/<int:app_id>/full-id-number")
@reviewer_required
def full_id_number(app_id: int):
    """The applicant's full ID number: shown once, on this response only, and recorded in the access log."""
    account = current_account()
    with sessions()() as db:
        view = viewing.staff_view(services(), db, account, app_id, full_id=True)
        response = Response(render_template("desk/detail.html", **_detail_context(
            db, db.get(Application, app_id), account, view=view)))
    response.headers["Cache-Control"] = "no-store"
    return response


def _rerender(app_id: int, status: int, **extra: Any):
    account = current_account()
    with sessions()() as db:
        app, _reach = _load(db, app_id, account)
        return render_template("desk/detail.html", **_detail_context(db, app, account, **extra)), status


def _stale_text(exc: StaleApplication) -> str:
    current = exc.current
    where = "、".join(current.stage_titles) or ""
    status = STATUS_TITLES.get(current.status, current.status)
    at = f"，当前环节：{where}" if where else ""
    return f"{MESSAGES['stale']}。当前状态：{status}{at}。请查看最新情况后再操作。"


# --------------------------------------------------------------------------- files and notices

@bp.get("/applications/<int:app_id>/files/<sha256>")
@reviewer_required
def file(app_id: int, sha256: str):
    """Framed or shown by the desk page (inline), or downloaded (`?download=1`): the one serving policy."""
    with sessions()() as db:
        served = serving.open_file(services(), db, current_account(), app_id, sha256,
                                   inline=request.args.get("download") != "1")
    return Response(served.body, mimetype=served.media_type, headers=served.headers)


@bp.get("/applications/<int:app_id>/notices/<int:notice_id>")
@reviewer_required
def notice(app_id: int, notice_id: int):
    with sessions()() as db:
        served = serving.open_notice(services(), db, current_account(), notice_id, app_id=app_id)
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


def marking_errors(table: dict[str, Any], marking: dict[str, Any]) -> dict[str, str]:
    """reviews.validate_marking's errors, keyed by the place they are shown: `r<no>.c<i>`, `r<no>.note`."""
    out: dict[str, str] = {}
    for error in validate_marking(table, marking):
        parts = error.path
        if len(parts) >= 2 and parts[0] == "rows":
            row = parts[1]
            if len(parts) >= 4 and parts[2] == "criteria":
                out.setdefault(f"r{row}.c{parts[3]}", MESSAGES["choose"])
            elif len(parts) >= 3 and parts[2] == "note":
                verdicts = ((marking.get("rows") or {}).get(row) or {}).get("criteria") or []
                key = f"r{row}.note"
                out.setdefault(key, MESSAGES["note_on_fail"] if FAIL in verdicts and not
                               ((marking["rows"][row] or {}).get("note")) else error.message)
            else:
                out.setdefault(f"r{row}", error.message)
        else:
            out.setdefault("note", error.message)
    return out


@bp.post("/applications/<int:app_id>/stages/<stage_id>/marking")
@reviewer_required
def mark(app_id: int, stage_id: str):
    account = current_account()
    with sessions().begin() as db:
        app, _reach = _load(db, app_id, account)
        spec = workflow_of(db, app)
        stage = spec.stages.get(stage_id)
        if (stage is None or stage.owner is None or stage_id not in (app.stages or [])
                or app.status != "active"
                or authority(db, app, account, stage.owner.role, stage.owner.level) is None):
            abort(404)
        if not stage.table:
            abort(404)
        pinned = load_pinned(db, app.versions)
        table = pinned.table(stage.table) or {}
        marking = parse_marking(table, request.form)
        errors = marking_errors(table, marking)
        if not errors:
            reviewer = db.get(Account, account.id)
            saved = record_marking(db, app, stage_id, stage.table, marking, reviewer, pinned)
            outcome = saved.outcome
    if errors:
        flash(MESSAGES["marking_invalid"].format(n=len(errors)), "error")
        return _rerender(app_id, 400, marking_errors={stage_id: errors},
                         marking_input={stage_id: marking})
    flash(MESSAGES["marking_saved"].format(outcome=OUTCOME_TITLES.get(outcome, outcome)), "info")
    return redirect(url_for("desk.detail", app_id=app_id) + f"#stage-{stage_id}")


# --------------------------------------------------------------------------- actions

def _irreversible(spec: WorkflowSpec, stage_id: str, action_id: str) -> bool:
    """An action that ends the application (any target is an end stage) asks for confirmation."""
    stage = spec.stages.get(stage_id)
    action = stage.actions.get(action_id) if stage else None
    if action is None:
        return False
    return any(t in spec.stages and spec.stages[t].is_end for t in action.targets)


@bp.post("/applications/<int:app_id>/act")
@reviewer_required
def act(app_id: int):
    account = current_account()
    stage_id = (request.form.get("stage") or "")[:64]
    action_id = (request.form.get("action") or "")[:64]
    expected = _int(request.form.get("expected_version"))
    note = (request.form.get("note") or "").strip()[:NOTE_MAX] or None
    materials = [m[:64] for m in request.form.getlist("materials")][:50]
    confirmed = request.form.get("confirmed") == "1"
    form_echo = {"stage": stage_id, "action": action_id, "note": note or "", "materials": materials}
    with sessions()() as db:
        app, _reach = _load(db, app_id, account)
        spec = workflow_of(db, app)
        stage = spec.stages.get(stage_id)
        action = stage.actions.get(action_id) if stage else None
        if action is None or expected is None:
            abort(400)
        if action.reason_required and not note:
            return _rerender(app_id, 400, action_errors={f"{stage_id}.{action_id}": MESSAGES["reason"]},
                             form=form_echo)
        allowed = any(a.stage == stage_id and a.action == action_id and a.allowed
                      for a in engine.available_actions(db, app, account, today=_today()))
        if allowed and _irreversible(spec, stage_id, action_id) and not confirmed:
            name, masked = _masked_applicant(db, {app.applicant_id}).get(app.applicant_id, ("", ""))
            targets = "、".join(spec.stages[t].title for t in action.targets if t in spec.stages)
            return render_template("desk/confirm.html", app=app, stage=stage, action=action, note=note,
                                   materials=materials, expected=expected, applicant=name,
                                   id_masked=masked, targets=targets)
    try:
        with sessions().begin() as db:
            actor = db.get(Account, account.id)
            app = db.get(Application, app_id)
            done = engine.perform(
                db, app_id, stage=stage_id, action=action_id, actor=actor, note=note,
                expected_version=expected, calendar=_calendar(app.pack), today=_today(),
                storage=_storage(), renderers=_renderers(), materials=materials, keys=_ext()["keys"],
            )
            number = app.number or str(app.id)
            where = _stage_titles(spec, list(done.stages))
            if done.status == "closed":
                where = f"已办结：{where}"
            else:
                where = f"当前环节：{where}"
            issued = "、".join(f"{n.title}（{n.number}）" for n in done.notices)
    except StaleApplication as exc:
        return _rerender(app_id, 409, stale=_stale_text(exc))
    except ReasonRequired:
        return _rerender(app_id, 400, action_errors={f"{stage_id}.{action_id}": MESSAGES["reason"]},
                         form=form_echo)
    except ActionNotAvailable as exc:
        flash(exc.why or str(exc), "error")
        return _rerender(app_id, 409)
    message = MESSAGES["done"].format(number=number, action=action.title, where=where)
    if issued:
        message += f"已出具：{issued}。"
    flash(message, "info")
    return redirect(url_for("desk.queue"))


# --------------------------------------------------------------------------- objections (timer stages)

@bp.post("/applications/<int:app_id>/stages/<stage_id>/objections")
@reviewer_required
def record_objection(app_id: int, stage_id: str):
    account = current_account()
    note = (request.form.get("note") or "").strip()[:NOTE_MAX]
    expected = _int(request.form.get("expected_version"))
    with sessions()() as db:
        _load(db, app_id, account)
    if expected is None:
        abort(400)
    if not note:
        return _rerender(app_id, 400, action_errors={f"{stage_id}.objection": MESSAGES["objection_note"]})
    try:
        with sessions().begin() as db:
            engine.record_objection(db, app_id, db.get(Account, account.id), stage=stage_id, note=note,
                                    expected_version=expected, today=_today())
    except StaleApplication as exc:
        return _rerender(app_id, 409, stale=_stale_text(exc))
    except ActionNotAvailable as exc:
        flash(exc.why or str(exc), "error")
        return _rerender(app_id, 409)
    except ReasonRequired:
        return _rerender(app_id, 400, action_errors={f"{stage_id}.objection": MESSAGES["objection_note"]})
    flash("异议已登记，期满前须核实处理", "info")
    return redirect(url_for("desk.detail", app_id=app_id) + f"#stage-{stage_id}")


@bp.post("/applications/<int:app_id>/objections/<int:objection_id>/dismiss")
@reviewer_required
def dismiss_objection(app_id: int, objection_id: int):
    account = current_account()
    note = (request.form.get("note") or "").strip()[:NOTE_MAX] or None
    expected = _int(request.form.get("expected_version"))
    with sessions()() as db:
        app, _reach = _load(db, app_id, account)
        pack = app.pack
    if expected is None:
        abort(400)
    try:
        with sessions().begin() as db:
            engine.resolve_objection(
                db, app_id, db.get(Account, account.id), objection_id=objection_id, upheld=False, note=note,
                expected_version=expected, calendar=_calendar(pack), today=_today(), storage=_storage(),
                renderers=_renderers(), keys=_ext()["keys"],
            )
    except StaleApplication as exc:
        return _rerender(app_id, 409, stale=_stale_text(exc))
    except (ActionNotAvailable, ObjectionError, WorkflowError) as exc:
        text = getattr(exc, "why", None) or str(exc).rsplit("：", 1)[-1]
        flash(text, "error")
        return _rerender(app_id, 409)
    flash("已记录：异议不成立，公示期满后自动流转", "info")
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
