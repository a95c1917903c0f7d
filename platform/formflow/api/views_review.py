"""Reviewer resources: the queue, an application, its table marking, the available actions, performing one.

Reach is the desk's (`queue.reach_of` / `queue.in_reach`): an application
outside the reviewer's offices, or a stage they do not own, answers 404.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields
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
    summary_json,
)
from formflow.db.models import Account, Application
from formflow.packs.versions import Pinned
from formflow.reviews import queue as queue_mod
from formflow.reviews.tables import MarkingInvalid
from formflow.usecases import review, serving, viewing
from formflow.web.context import services
from formflow.workflow.errors import ActionNotAvailable, ReasonRequired, StaleApplication
from formflow.workflow.moves import workflow_of

TAG = "审核人员"
PAGE_SIZE = 20


def _reach(db: Session, account: Account) -> list[queue_mod.Reach]:
    return review.reach(services(), db, account)


def _load(db: Session, app_id: int, account: Account) -> Application:
    """The application within the reviewer's reach; `review.NotInReach` (404) otherwise."""
    return review.load(services(), db, account, app_id)


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
    page = review.PageRequest(args.get("after"), args.get("limit", PAGE_SIZE))
    with c.sessions()() as db:
        found = review.queue(services(), db, account, filters, page)
    items = [{
        "id": row.id, "number": row.number, "pack": row.pack, "matter": row.matter,
        "applicant": row.applicant, "id_number_masked": row.id_masked,
        "category": row.category, "category_title": row.category_title,
        "channel": row.channel, "channel_title": row.channel_title,
        "stages": [{"id": st.id, "title": st.title} for st in row.stages],
        "office": {"id": row.office_id, "name": row.office_name} if row.office_id else None,
        "submitted_at": row.submitted_at, "deadline": row.deadline, "overdue": row.overdue, "version": row.version,
    } for row in found.rows]
    return s.QueuePageSchema().dump({"items": items, "next_cursor": found.next_cursor})


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


@route(f"/review/applications/<{ID}:app_id>/stages/<stage_id>/marking", "GET",
       summary="本环节的量化审查表、其 JSON Schema 与最近一次填写", tags=[TAG], responses={200: s.MarkingViewSchema})
def marking(app_id: int, stage_id: str):
    """schema 中不适用于本申请的行（所审查的材料本申请既不需要也未提交）标有 x-not-applicable，只能为 na，可省略。"""
    account = c.require_reviewer()
    with c.sessions()() as db:
        form = review.marking_form(services(), db, account, app_id, stage_id)
    return s.MarkingViewSchema().dump({
        "stage": form.stage.id, "table_id": form.table_id, "table_version": form.table_version,
        "table": form.table, "schema": form.schema, "marking": form.marking, "outcome": form.outcome,
    })


@route(f"/review/applications/<{ID}:app_id>/stages/<stage_id>/marking", "PUT",
       summary="填写本环节的量化审查表（每项：pass / fail / na，不符合须说明）", tags=[TAG],
       body=s.MarkingRequestSchema, responses={200: s.MarkingResultSchema})
def put_marking(app_id: int, stage_id: str):
    """校验失败时 422（code=marking_invalid），fields 的指针相对请求体（/marking/rows/1/criteria/0）。"""
    account = c.require_reviewer()
    body = load_body(s.MarkingRequestSchema())
    try:
        with c.sessions().begin() as db:
            done = review.mark(services(), db, account, app_id, stage_id, body["marking"])
    except MarkingInvalid as exc:
        raise ApiError(422, exc.code, exc.message,
                       fields=[("/marking" + f.pointer, f.message) for f in exc.fields]) from None
    return s.MarkingResultSchema().dump({"stage": done.stage.id, "table_id": done.table_id,
                                         "outcome": done.outcome, "failed_rows": done.failed_rows})


@route(f"/review/applications/<{ID}:app_id>/actions", "GET",
       summary="本账号在当前各环节可执行的操作（不可执行的附原因）", tags=[TAG], responses={200: s.ActionListSchema})
def actions(app_id: int):
    account = c.require_reviewer()
    with c.sessions()() as db:
        offered = review.available_actions(services(), db, account, app_id)
    return s.ActionListSchema().dump({"version": offered.version, "actions": [{
        "stage": a.stage, "stage_title": a.stage_title, "action": a.action, "title": a.title,
        "allowed": a.allowed, "why_not": a.why_not, "reason_required": a.reason_required,
        "correction": a.correction, "targets": list(a.targets)} for a in offered.actions]})


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
        try:
            done = review.act(services(), db, account, app_id, body["action"], stage=body["stage"],
                              note=body.get("note"), materials=body.get("materials") or (),
                              expected_version=body["version"])
        except StaleApplication as exc:
            cur = exc.current
            raise ApiError(409, exc.code, exc.message, extra={"current": {
                "application_id": cur.application_id, "version": cur.version, "status": cur.status,
                "stages": [{"id": a, "title": b} for a, b in zip(cur.stages, cur.stage_titles, strict=False)],
                "result": cur.result}}) from None
        except ReasonRequired as exc:
            raise ApiError(422, exc.code, exc.message, fields=[("/note", exc.message)]) from None
        except ActionNotAvailable as exc:  # and GuardNotMet: the same code and message as the desk's
            raise ApiError(409, exc.code, exc.message) from None
        return 200, s.TransitionSchema().dump({
            "application_id": done.app_id, "version": done.version, "status": done.status,
            "stages": [{"id": st.id, "title": st.title} for st in done.stages], "result": done.result,
            "awaiting": done.awaiting, "deadline": done.deadline, "event_id": done.event_id,
            "notices": [{"id": n.id, "kind": n.kind, "title": n.title, "number": n.number,
                         "url": c.notice_url(n.id)} for n in done.notices],
        })

    return _idempotent(account, body, work)


@route(f"/review/applications/<{ID}:app_id>/files/<sha256>", "GET", summary="下载申请中的一个材料文件", tags=[TAG],
       responses={200: "file"})
def download(app_id: int, sha256: str):
    with c.sessions()() as db:
        return served(serving.open_file(services(), db, c.current_account(), app_id, sha256))
