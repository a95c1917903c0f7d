"""Configurator's view: the loaded packs, each matter's workflow drawn and tabled, parameters.

Read-only: a configurator changes a pack by editing its files (and `formflow
check`); these pages show what the platform made of them. Only accounts with
the `configurator` role see them, and only for the packs they configure
(`auth.scope.configured_packs`: the packs of the offices the role is held at;
held without an office, every pack); anyone else signed in gets 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, abort, render_template

from formflow.auth.current import role_required
from formflow.auth.roles import BUILTIN_ROLES, CONFIGURATOR
from formflow.packs.loader import Matter, Pack
from formflow.packs.summary import summarize
from formflow.text.catalogue import _, lazy
from formflow.web.context import packs, services, sessions
from formflow.workflow.diagram import level_title, period_text, workflow_svg
from formflow.workflow.spec import END_KIND, TIMER_KIND, action_targets

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: Folders a pack's files live in (`<dir>/<pack>/…`): a pack's problems are those under them.
PACK_DIRS = ("schemas", "workflows", "seeds", "renderers")

#: How a guard reads in the stage table.
GUARD_OUTCOME = {"pass": lazy("The review table concludes: pass"), "fail": lazy("The review table concludes: fail")}
REASON_TITLES = {"required": lazy("A reason is required"), "optional": lazy("A reason may be given")}
KIND_TITLES = {"review": lazy("Review"), TIMER_KIND: lazy("Timed"), END_KIND: lazy("Closing")}
MATTER_KINDS = {"application": lazy("Application"), "consultation": lazy("Consultation"),
                "complaint": lazy("Complaint")}


def _content(doc: Any) -> dict[str, Any]:
    return doc.content if doc is not None and isinstance(doc.content, dict) else {}


def _mine() -> frozenset[str] | None:
    """The packs the signed-in configurator configures (None: all)."""
    from formflow.auth.current import signed_in_account
    from formflow.auth.scope import configured_packs

    with sessions()() as db:
        return configured_packs(db, signed_in_account().id, services())


def _pack(pack_id: str) -> Pack:
    pack = packs().packs.get(pack_id)
    mine = _mine()
    if pack is None or (mine is not None and pack_id not in mine):
        abort(404)
    return pack


def _matter(pack_id: str, matter_id: str) -> tuple[Pack, Matter, dict[str, Any]]:
    pack = _pack(pack_id)
    matter = pack.matters.get(matter_id)
    if matter is None or not _content(matter.workflow):
        abort(404)
    return pack, matter, _content(matter.workflow)


def _parameters(pack: Pack) -> dict[str, Any]:
    params = _content(pack.parameters).get("parameters")
    return params if isinstance(params, dict) else {}


def _example_count(pack: Pack) -> int:
    return sum(1 for p in _parameters(pack).values() if isinstance(p, dict) and p.get("example"))


@dataclass
class ActionRow:
    id: str
    title: str
    targets: list[str]
    guard: list[str] = field(default_factory=list)
    notice: str = ""
    reason: str = ""
    correction: bool = False
    expiry: bool = False


@dataclass
class StageRow:
    id: str
    title: str
    kind: str
    role: str
    level: str
    limit: str
    table: str
    join: list[str]
    actions: list[ActionRow]
    notices: list[str]
    result: str = ""
    note: str = ""


def _titles(workflow: dict[str, Any]) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    raw_stages = workflow.get("stages")
    stages: dict[str, Any] = raw_stages if isinstance(raw_stages, dict) else {}
    stage_titles = {sid: str((s or {}).get("title", sid)) for sid, s in stages.items()}
    roles = {rid: str(title) for rid, title in BUILTIN_ROLES.items()}
    for rid, role in (workflow.get("roles") or {}).items():
        roles[rid] = str((role or {}).get("title", rid))
    notices = {nid: str((n or {}).get("title", nid)) for nid, n in (workflow.get("notices") or {}).items()}
    return stage_titles, roles, notices


def stage_rows(workflow: dict[str, Any], tables: Mapping[str, Any]) -> list[StageRow]:
    """The workflow as table rows, every id resolved to its title."""
    stage_titles, roles, notices = _titles(workflow)
    rows = []
    stage: dict[str, Any]
    action: dict[str, Any]
    for sid, stage in (workflow.get("stages") or {}).items():
        stage = stage or {}
        kind = str(stage.get("kind") or "review")
        owner: dict[str, Any] = stage.get("owner") or {}
        actions: list[ActionRow] = []
        for aid, action in (stage.get("actions") or {}).items():
            action = action or {}
            guard = action.get("guard") or {}
            guard_text: list[str] = []
            if guard.get("outcome"):
                guard_text.append(str(GUARD_OUTCOME.get(guard["outcome"], guard["outcome"])))
            if guard.get("role"):
                guard_text.append(_("Role: %(role)s", role=roles.get(guard["role"], guard["role"])))
            if guard.get("rule") is not None:
                guard_text.append(_("The rule's condition holds"))
            notice = action.get("notice")
            actions.append(
                ActionRow(
                    id=aid,
                    title=str(action.get("title", aid)),
                    targets=[stage_titles.get(t, t) for t in action_targets(action)],
                    guard=guard_text,
                    notice=notices.get(notice, notice) if notice else "",
                    reason=str(REASON_TITLES.get(action.get("reason", ""), "")),
                    correction=bool(action.get("correction")),
                )
            )
        if kind == TIMER_KIND and stage.get("on_expiry"):
            actions.append(
                ActionRow(id="on_expiry", title=_("Moves on when the period ends"), targets=[stage_titles.get(
                    stage["on_expiry"], stage["on_expiry"])], expiry=True)
            )  # fmt: skip
        table_id = stage.get("table")
        table = _content(tables.get(table_id)) if table_id else {}
        rows.append(
            StageRow(
                id=sid,
                title=str(stage.get("title", sid)),
                kind=str(KIND_TITLES.get(kind, kind)),
                role=roles.get(owner.get("role", ""), owner.get("role") or ""),
                level=level_title(owner.get("level")) if owner.get("level") else "",
                limit=period_text(stage.get("duration") if kind == TIMER_KIND else stage.get("time_limit")),
                table=_("%(title)s (%(id)s)", title=table.get("title", table_id), id=table_id) if table_id else "",
                join=[stage_titles.get(j, j) for j in stage.get("join") or []],
                actions=actions,
                notices=list(dict.fromkeys(a.notice for a in actions if a.notice)),
                result=str(stage.get("result") or ""),
                note=str(stage.get("note") or ""),
            )
        )
    return rows


def citizen_rows(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    stage_titles, _roles, notices = _titles(workflow)
    rows = []
    for cid, action in (workflow.get("citizen") or {}).items():
        action = action or {}
        source = action.get("from", "any")
        rows.append({
            "id": cid,
            "title": str(action.get("title", cid)),
            "targets": [stage_titles.get(t, t) for t in action_targets(action)],
            "from": _("Any stage not yet closed") if source == "any"
            else _(", ").join(stage_titles.get(s, s) for s in source),
            "notice": notices.get(action.get("notice", ""), "") if action.get("notice") else "",
            "reason": REASON_TITLES.get(action.get("reason", ""), ""),
        })  # fmt: skip
    return rows


def _svg(workflow: dict[str, Any]) -> str:
    return workflow_svg(workflow, roles=BUILTIN_ROLES)


@bp.get("/")
@role_required(CONFIGURATOR)
def index():
    packset = packs()
    mine = _mine()
    entries = []
    for pack in packset.packs.values():
        if mine is not None and pack.id not in mine:
            continue
        entries.append({
            "pack": pack,
            "summary": summarize(pack),
            "examples": _example_count(pack),
            "parameters": len(_parameters(pack)),
        })  # fmt: skip
    problems: dict[str, list[Any]] = {}
    for problem in packset.problems:
        if mine is None or any(problem.file.startswith(f"{d}/{p}") for p in mine for d in PACK_DIRS):
            problems.setdefault(problem.file, []).append(problem)
    return render_template(
        "admin/index.html",
        entries=entries,
        problems=problems,
        problem_count=sum(len(items) for items in problems.values()),
        matter_kinds=MATTER_KINDS,
        calendar_warnings=_calendar_warnings(packset),
    )


def _calendar_warnings(packset: Any) -> list[str]:
    """From 1 October: next year has no holiday data (one line, whichever pack's calendar lacks it)."""
    from formflow.calendars.years import next_year_warning

    today = services().today()
    found = {next_year_warning(services().calendar(pack_id), today) for pack_id in packset.packs}
    return sorted(w for w in found if w)


@bp.get("/<pack_id>/<matter_id>/workflow")
@role_required(CONFIGURATOR)
def workflow(pack_id: str, matter_id: str):
    pack, matter, content = _matter(pack_id, matter_id)
    commitment = content.get("commitment") or {}
    notices = content.get("notices") or {}
    starts_on = commitment.get("starts_on")
    starts_title = next(
        (
            str(action.get("title") or starts_on)
            for stage in (content.get("stages") or {}).values()
            for aid, action in ((stage or {}).get("actions") or {}).items()
            if aid == starts_on and isinstance(action, dict)
        ),
        starts_on,
    )
    return render_template(
        "admin/workflow.html",
        pack=pack,
        matter=matter,
        workflow=content,
        svg=_svg(content),
        stages=stage_rows(content, matter.tables),
        citizen=citizen_rows(content),
        commitment=commitment,
        commitment_period=period_text(commitment),
        commitment_start=starts_title,
        notices=notices,
        source_file=matter.workflow.rel if matter.workflow else "",
    )


@bp.get("/<pack_id>/<matter_id>/workflow.svg")
@role_required(CONFIGURATOR)
def workflow_image(pack_id: str, matter_id: str):
    _, _, content = _matter(pack_id, matter_id)
    response = Response(_svg(content), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<pack_id>/parameters")
@role_required(CONFIGURATOR)
def parameters(pack_id: str):
    pack = _pack(pack_id)
    rows = []
    for pid, param in _parameters(pack).items():
        param = param if isinstance(param, dict) else {"value": param}
        rows.append({"id": pid, **{k: param.get(k) for k in ("title", "value", "unit", "year", "source", "note")},
                     "example": bool(param.get("example"))})  # fmt: skip
    return render_template(
        "admin/parameters.html",
        pack=pack,
        rows=rows,
        examples=sum(1 for r in rows if r["example"]),
        source_file=pack.parameters.rel if pack.parameters else "",
    )


from formflow.web.admin import bundles as _bundles  # noqa: E402,F401  (export / import bundles, hf)
from formflow.web.admin import webhooks as _webhooks  # noqa: E402,F401  (its pages, on this blueprint)
