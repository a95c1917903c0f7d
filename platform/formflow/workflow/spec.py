"""Workflow configuration → an immutable spec the engine and the checker read.

`parse_workflow` turns a workflow document (already validated against
`schemas/meta/workflow.schema.json`) into frozen dataclasses with lookups.
The dict helpers `action_targets` / `stage_targets` stay for the pack checker,
which runs on documents that may still be broken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

REVIEW_KIND = "review"
TIMER_KIND = "timer"
END_KIND = "end"
#: a stage whose applications wait for a batch draw and are moved by it (`on_win` / `on_lose`)
LOTTERY_KIND = "lottery"

#: The role citizens act in (built in, never declared by a workflow).
CITIZEN_ROLE = "citizen"


def action_targets(action: dict[str, Any]) -> list[str]:
    """Stage ids an action leads to (a list forks parallel branches)."""
    to = action.get("to")
    if to is None:
        return []
    return [str(t) for t in to] if isinstance(to, list) else [str(to)]


def stage_targets(stage: dict[str, Any]) -> list[str]:
    """Every stage a stage can lead to: its actions' targets and its timer's expiry."""
    targets: list[str] = []
    for action in (stage.get("actions") or {}).values():
        targets.extend(action_targets(action))
    if stage.get("kind") == TIMER_KIND and stage.get("on_expiry"):
        targets.append(str(stage["on_expiry"]))
    if stage.get("kind") == LOTTERY_KIND:
        targets.extend(str(stage[key]) for key in ("on_win", "on_lose") if stage.get(key))
    return targets


class UnknownName(KeyError):
    """A stage, action or notice id the workflow does not define."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Period:
    """A time limit: `days` working or calendar days."""

    days: int
    unit: str
    #: the parameter (seeds/<pack>/parameters.yaml) the days come from, resolved when a clock starts
    param: str | None = None

    def resolve(self, parameters: Mapping[str, Any] | None) -> Period:
        """This period with its days read from `parameters` (the pinned parameters document) if it names one."""
        if self.param is None or parameters is None:
            return self
        try:
            return Period(days=param_days(parameters, self.param), unit=self.unit, param=self.param)
        except ParameterMissing:
            return self


class ParameterMissing(LookupError):
    """A duration names a parameter the pinned parameters do not have as a whole number."""


def param_days(parameters: Mapping[str, Any] | None, name: str) -> int:
    """The whole number of days parameter `name` holds (`ParameterMissing` otherwise)."""
    entry = ((parameters or {}).get("parameters") or {}).get(name)
    value = entry.get("value") if isinstance(entry, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value or value < 0:
        raise ParameterMissing(name)
    return int(value)


def days_param(raw: Any) -> str | None:
    """The parameter id of a day count written `{param: <id>}`, else None."""
    if isinstance(raw, Mapping) and isinstance(raw.get("param"), str):
        return str(raw["param"])
    return None


@dataclass(frozen=True)
class Owner:
    """Who owns a stage: a role at the office of `level` on the application's path."""

    role: str
    level: str


@dataclass(frozen=True)
class Guard:
    """Preconditions of an action; every one given must hold."""

    outcome: str | None = None
    rule: Any = None
    role: str | None = None

    @property
    def empty(self) -> bool:
        return self.outcome is None and self.rule is None and self.role is None


@dataclass(frozen=True)
class Action:
    id: str
    title: str
    targets: tuple[str, ...] = ()
    guard: Guard = field(default_factory=Guard)
    notice: str | None = None
    reason: str | None = None  # "required" | "optional" | None
    correction: bool = False

    @property
    def reason_required(self) -> bool:
        return self.reason == "required"


@dataclass(frozen=True)
class Stage:
    id: str
    title: str
    kind: str = REVIEW_KIND
    owner: Owner | None = None
    table: str | None = None
    time_limit: Period | None = None
    actions: Mapping[str, Action] = field(default_factory=lambda: MappingProxyType({}))
    duration: Period | None = None
    on_expiry: str | None = None
    objections: bool = False
    join: tuple[str, ...] = ()
    result: str | None = None
    #: Reviewer-entered fields (a JSON Schema object fragment), entered with the marking (`reviews.stage_forms`).
    form: Mapping[str, Any] | None = None
    #: notice issued when a timer stage moves on by itself (`expiry_notice`)
    expiry_notice: str | None = None
    #: how long the owner has to review an objection (`objections: {time_limit: …}`)
    objection_limit: Period | None = None
    #: a lottery stage: where a drawn entrant goes with a flat, and without one
    on_win: str | None = None
    on_lose: str | None = None
    #: a lottery stage: entrant fields (`size`, `name`) as JSON Logic over the application
    entrant: Mapping[str, Any] | None = None

    @property
    def is_lottery(self) -> bool:
        return self.kind == LOTTERY_KIND

    @property
    def is_end(self) -> bool:
        return self.kind == END_KIND

    @property
    def is_timer(self) -> bool:
        return self.kind == TIMER_KIND

    @property
    def clock(self) -> Period | None:
        """The period the stage clock runs for: a timer's duration, else its time limit."""
        return self.duration if self.is_timer else self.time_limit

    def action(self, action_id: str) -> Action:
        try:
            return self.actions[action_id]
        except KeyError:
            raise UnknownName(f"stage {self.id!r} has no action {action_id!r}") from None


@dataclass(frozen=True)
class Notice:
    id: str
    title: str
    template: str
    number: str


@dataclass(frozen=True)
class Commitment:
    """The overall promised time limit, started by one action (or on submit)."""

    title: str
    days: int
    unit: str
    starts_on: str | None = None
    param: str | None = None

    @property
    def period(self) -> Period:
        return Period(self.days, self.unit, self.param)


@dataclass(frozen=True)
class CitizenAction:
    id: str
    title: str
    targets: tuple[str, ...] = ()
    from_stages: tuple[str, ...] | None = None  # None: any active stage
    notice: str | None = None
    reason: str | None = None

    @property
    def reason_required(self) -> bool:
        return self.reason == "required"

    def allowed_from(self, stage_id: str) -> bool:
        return self.from_stages is None or stage_id in self.from_stages


@dataclass(frozen=True)
class WorkflowSpec:
    id: str
    title: str
    roles: Mapping[str, str]
    start: str
    stages: Mapping[str, Stage]
    commitment: Commitment | None = None
    citizen: Mapping[str, CitizenAction] = field(default_factory=lambda: MappingProxyType({}))
    notices: Mapping[str, Notice] = field(default_factory=lambda: MappingProxyType({}))

    def stage(self, stage_id: str) -> Stage:
        try:
            return self.stages[stage_id]
        except KeyError:
            raise UnknownName(f"workflow {self.id!r} has no stage {stage_id!r}") from None

    def notice(self, notice_id: str) -> Notice:
        try:
            return self.notices[notice_id]
        except KeyError:
            raise UnknownName(f"workflow {self.id!r} has no notice {notice_id!r}") from None

    def citizen_action(self, action_id: str) -> CitizenAction:
        try:
            return self.citizen[action_id]
        except KeyError:
            raise UnknownName(f"workflow {self.id!r} has no citizen action {action_id!r}") from None

    def role_title(self, role: str) -> str:
        return self.roles.get(role, role)


def _period(raw: Any) -> Period | None:
    if not isinstance(raw, dict):
        return None
    param = days_param(raw.get("days"))
    days = 0 if param is not None else int(raw["days"])
    named = raw.get("days_param")
    return Period(days=days, unit=str(raw.get("unit", "working")),
                  param=param or (str(named) if isinstance(named, str) else None))


def _targets(raw: Any) -> tuple[str, ...]:
    return tuple(action_targets({"to": raw}))


def _action(action_id: str, raw: dict[str, Any]) -> Action:
    guard = raw.get("guard") or {}
    return Action(
        id=action_id,
        title=str(raw.get("title", action_id)),
        targets=_targets(raw.get("to")),
        guard=Guard(outcome=guard.get("outcome"), rule=guard.get("rule"), role=guard.get("role")),
        notice=raw.get("notice"),
        reason=raw.get("reason"),
        correction=bool(raw.get("correction", False)),
    )


def _stage(stage_id: str, raw: dict[str, Any]) -> Stage:
    owner = raw.get("owner")
    objections = raw.get("objections")
    actions = {aid: _action(aid, a or {}) for aid, a in (raw.get("actions") or {}).items()}
    return Stage(
        id=stage_id,
        title=str(raw.get("title", stage_id)),
        kind=str(raw.get("kind", REVIEW_KIND)),
        owner=Owner(role=str(owner["role"]), level=str(owner["level"])) if owner else None,
        table=raw.get("table"),
        time_limit=_period(raw.get("time_limit")),
        actions=MappingProxyType(actions),
        duration=_period(raw.get("duration")),
        on_expiry=raw.get("on_expiry"),
        objections=objections is True or isinstance(objections, dict),
        join=tuple(str(j) for j in raw.get("join") or ()),
        result=raw.get("result"),
        form=MappingProxyType(dict(raw["form"])) if isinstance(raw.get("form"), dict) else None,
        expiry_notice=raw.get("expiry_notice"),
        objection_limit=_period(objections.get("time_limit")) if isinstance(objections, dict) else None,
        on_win=raw.get("on_win"),
        on_lose=raw.get("on_lose"),
        entrant=MappingProxyType(dict(raw["entrant"])) if isinstance(raw.get("entrant"), dict) else None,
    )


def _citizen(action_id: str, raw: dict[str, Any]) -> CitizenAction:
    source = raw.get("from", "any")
    return CitizenAction(
        id=action_id,
        title=str(raw.get("title", action_id)),
        targets=_targets(raw.get("to")),
        from_stages=None if source == "any" else tuple(str(s) for s in source),
        notice=raw.get("notice"),
        reason=raw.get("reason"),
    )


def parse_workflow(content: Mapping[str, Any]) -> WorkflowSpec:
    """A validated workflow document → WorkflowSpec."""
    commitment = content.get("commitment")
    notices = {
        nid: Notice(
            id=nid,
            title=str(n.get("title", nid)),
            template=str(n.get("template") or f"documents/{nid}.html"),
            number=str(n.get("number") or "{year}-{seq:05d}"),
        )
        for nid, n in (content.get("notices") or {}).items()
    }
    return WorkflowSpec(
        id=str(content.get("id", "")),
        title=str(content.get("title", "")),
        roles=MappingProxyType(
            {rid: str((r or {}).get("title", rid)) for rid, r in (content.get("roles") or {}).items()}
        ),
        start=str(content["start"]),
        stages=MappingProxyType(
            {sid: _stage(sid, s or {}) for sid, s in (content.get("stages") or {}).items()}
        ),
        commitment=Commitment(
            title=str(commitment.get("title", "")),
            days=0 if days_param(commitment.get("days")) else int(commitment["days"]),
            unit=str(commitment.get("unit", "working")),
            starts_on=commitment.get("starts_on"),
            param=days_param(commitment.get("days")) or commitment.get("days_param"),
        )
        if commitment
        else None,
        citizen=MappingProxyType(
            {cid: _citizen(cid, c or {}) for cid, c in (content.get("citizen") or {}).items()}
        ),
        notices=MappingProxyType(notices),
    )


_SPECS: dict[str, WorkflowSpec] = {}


def cached_spec(digest: str) -> WorkflowSpec | None:
    """The spec of a pinned workflow version this process has already parsed, if any."""
    return _SPECS.get(digest)


def spec_for(digest: str, content: Mapping[str, Any]) -> WorkflowSpec:
    """The spec of a pinned workflow version (cached: pinned content never changes)."""
    found = _SPECS.get(digest)
    if found is None:
        found = _SPECS[digest] = parse_workflow(content)
    return found


# --------------------------------------------------------------------------- day counts from parameters

#: Where a workflow document may write a day count as `{param: <id>}` (JSON pointer patterns, `*` any key).
PARAM_DAY_PLACES = (
    ("stages", "*", "time_limit", "days"),
    ("stages", "*", "duration", "days"),
    ("stages", "*", "objections", "time_limit", "days"),
    ("commitment", "days"),
    ("notice_defaults", "correction", "working_days"),
    ("notices", "*", "correction", "working_days"),
    ("correction_deadline", "days"),  # messages.yaml
)


def _places(node: Any, pattern: tuple[str, ...], at: tuple[str, ...] = ()) -> list[tuple[Any, str, tuple[str, ...]]]:
    """(parent object, key, path) of every place matching `pattern` that exists in `node`."""
    if not isinstance(node, dict) or not pattern:
        return []
    head, rest = pattern[0], pattern[1:]
    keys = list(node) if head == "*" else [head] if head in node else []
    if not rest:
        return [(node, k, (*at, k)) for k in keys]
    return [found for k in keys for found in _places(node[k], rest, (*at, k))]


def resolve_param_days(content: Any, parameters: Mapping[str, Any] | None) -> list[tuple[str, str, str]]:
    """Replace every `{param: id}` day count of `content` (in place) by the parameter's whole number.

    The parameter's id stays beside the number (`<key>_param`), so a clock can say where its days came
    from. Returns (JSON pointer, parameter id, "unknown" | "not_integer") for each count left as it was.
    """
    problems: list[tuple[str, str, str]] = []
    for pattern in PARAM_DAY_PLACES:
        for parent, key, path in _places(content, pattern):
            name = days_param(parent.get(key))
            if name is None:
                continue
            where = "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path)
            known = ((parameters or {}).get("parameters") or {})
            if name not in known:
                problems.append((where, name, "unknown"))
                continue
            try:
                parent[key] = param_days(parameters, name)
            except ParameterMissing:
                problems.append((where, name, "not_integer"))
                continue
            parent[f"{key}_param"] = name
    return problems
