"""A matter's message kinds (`schemas/<pack>/<matter>/messages.yaml`): when, wording, SMS.

Templates are Jinja in a sandbox with a fixed set of variables, so a configurator's
template can neither reach into the platform nor name a value that is never there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

#: The flat variables of a message (also the SMS template's parameters).
FLAT_VARIABLES = frozenset({"name", "matter", "stage", "deadline", "link", "number"})
#: The variables a message template may use: the flat ones and the documented template context
#: (`formflow.documents.context`: applicant, members, amounts, history, data…; not `reason`: a
#: reviewer's reason is told by the notice, not by SMS).
VARIABLES = FLAT_VARIABLES | frozenset({
    "applicant", "members", "address", "category", "amounts", "office", "history", "params", "data",
    "application",
})  # fmt: skip
#: History actions the platform itself writes (besides the workflow's own action ids).
PLATFORM_ACTIONS = frozenset({"submit", "answer_correction", "expire", "withdraw"})
#: Household history actions the allocation modules write.
HOUSEHOLD_ACTIONS = frozenset({
    "entered", "flat_offered", "offer_accepted", "offer_declined", "rostered", "subsidy_stopped",
    "flat_recovered", "check_started", "check_continued", "check_closed", "report_filed",
})  # fmt: skip
HOUSEHOLD_STATUSES = frozenset({"waiting", "offered", "housed", "subsidised", "stopped", "recovered", "removed"})

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


def _cn_date(value: Any) -> str:
    from formflow.documents.pdf import cn_date

    return cn_date(value)


_ENV.filters["cn_date"] = _cn_date


def compile_problem(source: str) -> tuple[str | None, set[str]]:
    """(syntax error or None, the variables the template names)."""
    try:
        parsed = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        return str(exc.message or exc), set()
    return None, set(meta.find_undeclared_variables(parsed))


def render(source: str, values: Mapping[str, Any]) -> str:
    """The template filled in (every variable is given, empty when it has no value here)."""
    full = {name: "" for name in VARIABLES} | {k: ("" if v is None else v) for k, v in values.items()}
    return _compiled(source).render(full).strip()


def _compiled(source: str) -> Any:
    """The template of `source`, compiled once per process (keyed by its text: a changed template is new)."""
    found = _TEMPLATES.get(source)
    if found is None:
        found = _TEMPLATES[source] = _ENV.from_string(source)
    return found


_TEMPLATES: dict[str, Any] = {}


def flat_only(source: str) -> bool:
    """Whether the template names only flat variables, `stage` only printed as it is (`{{ stage }}`).

    Such a template reads the same with the flat values alone as with the full template context
    (where `stage` is the stage with its office, printing as its title): the context need not be built."""
    found = _FLAT_ONLY.get(source)
    if found is None:
        found = _FLAT_ONLY[source] = _flat_only(source)
    return found


def _flat_only(source: str) -> bool:
    try:
        parsed = _ENV.parse(source)
    except TemplateSyntaxError:
        return False
    if not set(meta.find_undeclared_variables(parsed)) <= FLAT_VARIABLES:
        return False
    printed = sum(1 for out in parsed.find_all(nodes.Output) for node in out.nodes
                  if isinstance(node, nodes.Name) and node.name == "stage")
    named = sum(1 for node in parsed.find_all(nodes.Name) if node.name == "stage")
    return printed == named


_FLAT_ONLY: dict[str, bool] = {}


@dataclass(frozen=True)
class When:
    actions: frozenset[str] = frozenset()
    enters: frozenset[str] = frozenset()
    leaves: frozenset[str] = frozenset()
    household: frozenset[str] = frozenset()
    household_status: frozenset[str] = frozenset()
    correction_due: int | None = None

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> When:
        def ids(key: str) -> frozenset[str]:
            return frozenset(str(v) for v in raw.get(key) or ())

        due = raw.get("correction_due")
        return cls(ids("actions"), ids("enters"), ids("leaves"), ids("household"), ids("household_status"),
                   int(due) if due is not None else None)

    @property
    def on_event(self) -> bool:
        return bool(self.actions or self.enters or self.leaves)

    @property
    def on_household(self) -> bool:
        return bool(self.household or self.household_status)

    def matches_event(self, action: str, from_stage: str | None, to_stage: str | None) -> bool:
        """Whether a workflow history event (its action, the stage it left and the one it entered) matches."""
        if not self.on_event or self.on_household or self.correction_due is not None:
            return False
        if self.actions and action not in self.actions:
            return False
        moved = from_stage != to_stage
        if self.enters and not (moved and to_stage in self.enters):
            return False
        return not (self.leaves and not (moved and from_stage in self.leaves))

    def matches_household(self, action: str, to_status: str | None) -> bool:
        if not self.on_household or self.on_event or self.correction_due is not None:
            return False
        if self.household and action not in self.household:
            return False
        return not (self.household_status and to_status not in self.household_status)


@dataclass(frozen=True)
class MessageKind:
    id: str
    title: str
    body: str
    when: When
    sms: bool = False

    @property
    def needs_context(self) -> bool:
        """Whether its title or body uses more than the flat variables (see `flat_only`)."""
        return not (flat_only(self.title) and flat_only(self.body))


@dataclass(frozen=True)
class MatterMessages:
    """The message kinds of one matter, and its correction deadline (days, unit) if it has one."""

    pack: str
    matter: str
    kinds: tuple[MessageKind, ...]
    correction_deadline: tuple[int, str] | None = None


def parse(pack: str, matter: str, content: Mapping[str, Any]) -> MatterMessages:
    kinds = tuple(
        MessageKind(str(kid), str(raw.get("title", "")), str(raw.get("body", "")), When.of(raw.get("when") or {}),
                    bool(raw.get("sms", False)))
        for kid, raw in (content.get("kinds") or {}).items() if isinstance(raw, Mapping)
    )
    deadline = content.get("correction_deadline")
    due = (int(deadline["days"]), str(deadline["unit"])) if isinstance(deadline, Mapping) else None
    return MatterMessages(pack, matter, kinds, due)
