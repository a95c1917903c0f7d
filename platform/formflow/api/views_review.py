"""Reviewer resources: the queue, an application, its table marking, the available actions, performing one.

Reach is the desk's (`queue.reach_of` / `queue.in_reach`): an application
outside the reviewer's offices, or a stage they do not own, answers 404.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields
from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.api import common as c
from formflow.api import schemas as s
from formflow.api.errors import ApiError, load_body, load_query
from formflow.api.routing import ID, route
from formflow.api.views_citizen import (
    _idempotent,
    entries_json,
    files_json,
    notices_json,
    office_json,
    served,
    stale,
    summary_json,
)
from formflow.db.models import Account, Application, Office
from formflow.packs.versions import Pinned, load_pinned
from formflow.reviews import queue as queue_mod
from formflow.reviews.tables import MarkingInvalid, latest_marking, marking_schema, record_marking, summarize
from formflow.usecases import serving, viewing
from formflow.web.context import services
from formflow.workflow import engine
from formflow.workflow.errors import ActionNotAvailable, GuardNotMet, ReasonRequired, StaleApplication
from formflow.workflow.moves import workflow_of

TAG = "审核人员"
PAGE_SIZE = 20


def _reach(db: Session, account: Account) -> list[queue_mod.Reach]:
    return queue_mod.reach_of(db, account.id, c.packs())


def _load(db: Session, app_id: int, account: Account) -> Application:
    if not queue_mod.in_reach(db, app_id, _reach(db, account)):
        raise ApiError(404)
    app = db.get(Application, app_id)
    if app is None:
        raise ApiError(404)
    return app


def _category_title(pinned: Pinned, category: str | None) -> str:
    return pinned.category_title(category)


def _channel_title(pinned: Pinned, channel: str | None) -> str:
    return pinned.channel_title(channel)


@route("/review/queue", "GET", summary="待办队列：与工作台相同的筛选和键集分页", tags=[TAG], query=s.QueueQuerySchema,
       responses={200: s.QueuePageSchema})
def queue():
    """排序：超期在前，再按办理期限（无期限在后）、编号。`after` 为上一页的 next_cursor。"""
    account = c.require_reviewer()
    args = load_query(s.QueueQuerySchema())
    filters = queue_mod.Filters(stage=args.get("stage"), category=args.get("category"),
                                channel=args.get("channel"), overdue=args.get("overdue"))
    with c.sessions()() as db:
        page = queue_mod.queue_page(db, account.id, filters=filters, after=args.get("after"),
                                    limit=args.get("limit", PAGE_SIZE), packset=c.packs())
        applicants = {a.id: a for a in db.scalars(
            select(Account).where(Account.id.in_({app.applicant_id for app in page.items})))}
        offices = {o.id: o for o in db.scalars(
            select(Office).where(Office.id.in_({app.office_id for app in page.items if app.office_id})))}
        items = []
        for app in page.items:
            pinned = load_pinned(db, app.versions)
            spec = c.spec_of(pinned)
            who = applicants.get(app.applicant_id)
            office = offices.get(app.office_id)
            items.append({
                "id": app.id, "number": app.number, "pack": app.pack, "matter": app.matter,
                "applicant": who.display_name if who else "", "id_number_masked": c.masked_identity(who),
                "category": app.category, "category_title": _category_title(pinned, app.category),
                "channel": app.channel, "channel_title": _channel_title(pinned, app.channel),
                "stages": c.stage_refs(spec, app.stages),
                "office": {"id": office.id, "name": office.name} if office else None,
                "submitted_at": app.submitted_at, "deadline": app.deadline, "overdue": bool(app.overdue),
                "version": app.version,
            })
    return s.QueuePageSchema().dump({"items": items, "next_cursor": page.next_cursor})


def _my_stages(db: Session, app: Application, account: Account) -> list[str]:
    return viewing.owned_stages(db, app, account, workflow_of(db, app))


class ReviewViewSchema(s.ReviewApplicationSchema):
    """The staff view (`usecases.viewing.staff_view`): the desk's values, formatted and masked."""

    steps = fields.List(fields.Dict(), required=True, metadata={
        "description": "表单各步及其值（已格式化、证件号与手机号脱敏），与工作台相同"})
    checklist = fields.List(fields.Dict(), required=True, metadata={"description": "本申请的材料清单及状态"})
    precheck = fields.Dict(allow_none=True, required=True, metadata={"description": "资格预审（值已格式化）"})


def _value_json(v: viewing.Value) -> dict[str, Any]:
    return {"path": v.path, "title": v.title, "kind": v.kind, "text": v.text, "empty": v.empty,
            "source": v.source, "image": v.image,
            "files": [{"sha256": f.sha256, "name": f.name, "media_type": f.media_type} for f in v.files],
            "children": [_value_json(child) for child in v.children]}


def staff_json(view: viewing.StaffView) -> dict[str, Any]:
    pre = view.precheck
    return ReviewViewSchema().dump({
        **summary_json(view.app),
        "applicant": {"name": view.applicant, "id_number_masked": view.id_masked},
        "office": office_json(view.app.office), "overdue": view.app.overdue, "data": view.data,
        "versions": view.versions, "history": entries_json(view.history), "notices": notices_json(view.notices),
        "files": files_json(view.files), "my_stages": [{"id": st.id, "title": st.title} for st in view.my_stages],
        "steps": [{"id": st.id, "title": st.title, "values": [_value_json(v) for v in st.values]}
                  for st in view.steps],
        "checklist": [{"kind": m.kind, "title": m.title, "required": m.required, "provided": m.provided,
                       "state": m.state, "state_title": m.state_title} for m in view.checklist],
        "precheck": None if pre is None else {
            "title": pre.title, "eligible": pre.eligible,
            "computed": [{"title": t, "text": x} for t, x in pre.computed],
            "conditions": [{"id": cond.id, "title": cond.title, "holds": cond.holds, "verdict": cond.verdict,
                            "shown": [{"title": t, "text": x} for t, x in cond.shown]} for cond in pre.conditions]},
    })


@route(f"/review/applications/<{ID}:app_id>", "GET",
       summary="一件申请：数据（证件号、手机号脱敏）、申请人、办理记录、文书、材料清单、预审；查看电子证照留痕",
       tags=[TAG], responses={200: ReviewViewSchema})
def application(app_id: int):
    with c.sessions()() as db:
        return staff_json(viewing.staff_view(services(), db, c.current_account(), app_id))


def _owned_stage(db: Session, app: Application, account: Account, stage_id: str):
    """A current stage of the application that the account owns and that marks a table; 404 otherwise."""
    if stage_id not in _my_stages(db, app, account):
        raise ApiError(404)
    stage = workflow_of(db, app).stages[stage_id]
    if not stage.table:
        raise ApiError(404, message="本环节没有审查表")
    return stage


@route(f"/review/applications/<{ID}:app_id>/stages/<stage_id>/marking", "GET",
       summary="本环节的量化审查表、其 JSON Schema 与最近一次填写", tags=[TAG], responses={200: s.MarkingViewSchema})
def marking(app_id: int, stage_id: str):
    account = c.require_reviewer()
    with c.sessions()() as db:
        app = _load(db, app_id, account)
        stage = _owned_stage(db, app, account, stage_id)
        pinned = load_pinned(db, app.versions)
        table = pinned.table(stage.table) or {}
        latest = latest_marking(db, app.id, stage.id, stage.table)
        return s.MarkingViewSchema().dump({
            "stage": stage.id, "table_id": stage.table,
            "table_version": (app.versions.get("tables") or {}).get(stage.table, ""),
            "table": table, "schema": marking_schema(table),
            "marking": latest.marking if latest else None, "outcome": latest.outcome if latest else None,
        })


@route(f"/review/applications/<{ID}:app_id>/stages/<stage_id>/marking", "PUT",
       summary="填写本环节的量化审查表（每项：pass / fail / na，不符合须说明）", tags=[TAG],
       body=s.MarkingRequestSchema, responses={200: s.MarkingResultSchema})
def put_marking(app_id: int, stage_id: str):
    """校验失败时 422，fields 的指针相对请求体（/marking/rows/1/criteria/0）。"""
    account = c.require_reviewer()
    body = load_body(s.MarkingRequestSchema())
    with c.sessions().begin() as db:
        app = _load(db, app_id, account)
        stage = _owned_stage(db, app, account, stage_id)
        pinned = load_pinned(db, app.versions)
        try:
            row = record_marking(db, app, stage.id, stage.table, body["marking"], db.get(Account, account.id), pinned)
        except MarkingInvalid as exc:
            raise ApiError(422, fields=[("/marking" + e.pointer, e.message) for e in exc.errors]) from None
        result = summarize(row.marking)
        return s.MarkingResultSchema().dump({"stage": stage.id, "table_id": stage.table, "outcome": row.outcome,
                                             "failed_rows": result.failed_rows})


@route(f"/review/applications/<{ID}:app_id>/actions", "GET",
       summary="本账号在当前各环节可执行的操作（不可执行的附原因）", tags=[TAG], responses={200: s.ActionListSchema})
def actions(app_id: int):
    account = c.require_reviewer()
    with c.sessions()() as db:
        app = _load(db, app_id, account)
        found = engine.available_actions(db, app, db.get(Account, account.id), today=c.today())
        return s.ActionListSchema().dump({"version": app.version, "actions": [{
            "stage": a.stage, "stage_title": a.stage_title, "action": a.action, "title": a.title,
            "allowed": a.allowed, "why_not": a.why_not, "reason_required": a.reason_required,
            "correction": a.correction, "targets": list(a.targets)} for a in found]})


@route(f"/review/applications/<{ID}:app_id>/actions", "POST",
       summary="执行操作（须带申请的当前版本；已被他人处理则 409 并返回当前状态）",
       tags=[TAG], body=s.ActionRequestSchema, responses={200: s.TransitionSchema}, errors=(409,), idempotent=True)
def perform(app_id: int):
    """带 Idempotency-Key 重试不会重复执行：同键同内容返回首次的结果。
    409：stale（版本过期，error.current 为当前状态）、not_available（此时此环节不能执行）、
    guard_not_met（条件不满足）。"""
    account = c.require_reviewer()
    body = load_body(s.ActionRequestSchema())

    def work(db: Session) -> tuple[int, dict[str, Any]]:
        app = _load(db, app_id, account)
        try:
            done = engine.perform(
                db, app_id, stage=body["stage"], action=body["action"], actor=db.get(Account, account.id),
                note=(body.get("note") or "").strip() or None, expected_version=body["version"],
                calendar=c.calendar(app.pack), today=c.today(), storage=c.storage(), renderers=c.renderers(),
                materials=body.get("materials") or (), keys=c.keys(),
            )
        except StaleApplication as exc:
            raise stale(exc) from None
        except ReasonRequired:
            raise ApiError(422, "reason_required", "请填写理由", fields=[("/note", "请填写理由")]) from None
        except GuardNotMet as exc:
            raise ApiError(409, "guard_not_met", exc.why or "不满足此操作的条件") from None
        except ActionNotAvailable as exc:
            raise ApiError(409, "not_available", exc.why or "此时不能执行此操作") from None
        spec = workflow_of(db, app)
        return 200, s.TransitionSchema().dump({
            "application_id": done.application_id, "version": done.version, "status": done.status,
            "stages": c.stage_refs(spec, done.stages), "result": done.result, "awaiting": done.awaiting,
            "deadline": done.deadline, "event_id": done.event_id,
            "notices": [{"id": n.id, "kind": n.kind, "title": n.title, "number": n.number,
                         "url": c.notice_url(n.id)} for n in done.notices],
        })

    return _idempotent(account, body, work)


@route(f"/review/applications/<{ID}:app_id>/files/<sha256>", "GET", summary="下载申请中的一个材料文件", tags=[TAG],
       responses={200: "file"})
def download(app_id: int, sha256: str):
    with c.sessions()() as db:
        return served(serving.open_file(services(), db, c.current_account(), app_id, sha256))
