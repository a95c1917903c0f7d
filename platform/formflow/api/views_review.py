"""Reviewer resources: the queue, an application, its table marking, the available actions, performing one.

Reach is the desk's (`queue.reach_of` / `queue.in_reach`): an application
outside the reviewer's offices, or a stage they do not own, answers 404.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.api import common as c
from formflow.api import schemas as s
from formflow.api.errors import ApiError, load_body, load_query
from formflow.api.routing import ID, route
from formflow.api.views_citizen import _idempotent, send_file, valid_sha
from formflow.applications.materials import file_shas
from formflow.db.models import Account, Application, ApplicationFile
from formflow.packs.versions import Pinned, load_pinned
from formflow.reviews import queue as queue_mod
from formflow.reviews.tables import MarkingInvalid
from formflow.usecases import review
from formflow.web.context import services
from formflow.workflow.access import authority
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
    spec = workflow_of(db, app)
    out = []
    for stage_id in app.stages or []:
        stage = spec.stages.get(stage_id)
        if (app.status == "active" and stage is not None and stage.owner is not None
                and authority(db, app, account, stage.owner.role, stage.owner.level) is not None):
            out.append(stage_id)
    return out


@route(f"/review/applications/<{ID}:app_id>", "GET",
       summary="一件申请：数据、申请人（证件号脱敏）、办理记录、文书、材料",
       tags=[TAG], responses={200: s.ReviewApplicationSchema})
def application(app_id: int):
    account = c.require_reviewer()
    with c.sessions()() as db:
        app = _load(db, app_id, account)
        pinned = load_pinned(db, app.versions)
        spec = c.spec_of(pinned)
        applicant = db.get(Account, app.applicant_id)
        return s.ReviewApplicationSchema().dump({
            **c.summary(db, app),
            "applicant": {"name": applicant.display_name if applicant else "",
                          "id_number_masked": c.masked_identity(applicant)},
            "office": c.office_ref(db, app.office_id), "overdue": bool(app.overdue), "data": app.data or {},
            "versions": app.versions or {}, "history": c.timeline(db, app, spec, for_citizen=False),
            "notices": c.notices(db, app), "files": c.files(db, app),
            "my_stages": c.stage_refs(spec, _my_stages(db, app, account)),
        })


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
    account = c.require_reviewer()
    valid_sha(sha256)
    with c.sessions()() as db:
        app = _load(db, app_id, account)
        attached = db.scalar(select(ApplicationFile.id).where(
            ApplicationFile.application_id == app.id, ApplicationFile.sha256 == sha256).limit(1))
        if attached is None and sha256 not in file_shas(app.data):
            raise ApiError(404)
        return send_file(db, sha256)
