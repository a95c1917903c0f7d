"""The one template context of notices (PDF templates) and message texts (messages.yaml).

`template_context` builds it from plain facts (`Facts`), so `formflow check` can build it
for a sample application without a database; `notice_context` and `message_context`
gather the facts of a stored application. Every notice render and every message render
goes through `template_context`.

Personal data stays masked: ID and mobile numbers appear only masked (in `applicant`,
`members` and `data` alike; any 18-character resident ID number left in a free-text
value is masked too). Message contexts mask names as well (family name and **), as SMS texts do.

The variables (docs/formats.md, "Notice and message templates"):

applicant    {name, id_number (masked)}
members      the other household members listed: [{name, relation, id_number (masked)}]
address      the applicant's address (the form's first `current_address`, else `…address` field)
category     {id, title} of the applicant category (prints as its title)
amounts      {name: {name, title, value, unit, text}} computed by rules.yaml (prints as text)
stage        {id, title, office} the stage issuing the notice or the message's stage (prints as title)
office       the title of that stage's office
reason       the reviewer's reason, or ""
deadline     a date (Beijing), or None; `| cn_date` prints the date in the Chinese style
history      the decisions so far: [{action, title, stage, office, at (local time)}]
params       the pack's parameters {name: value}
data         the form data, ID and mobile numbers masked
application  {id, number, matter, submitted_at (local time), submitted_on (a date), link}
+ the notice's variables (`vars` of notice_defaults, of the notice, `notice_vars` of the action).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from formflow.text import formatting as fmt

#: The names the platform fills; a notice variable may not take one of them.
CONTEXT_NAMES = frozenset({
    "applicant", "members", "address", "category", "amounts", "stage", "office", "reason", "deadline",
    "history", "params", "data", "application",
})  # fmt: skip
#: The flat names older templates use (kept: a pack's override may still print them).
LEGACY_NOTICE_NAMES = frozenset({
    "applicant_name", "id_number_masked", "matter_title", "application_no", "submitted_on", "missing",
    "office_name", "time_limit", "contact", "seal_note", "remedy", "correction_days", "consequence",
})  # fmt: skip
#: Set by the PDF renderer itself.
RENDERER_NAMES = frozenset({"title", "number", "issued_on", "cid"})
#: Names a notice variable (`vars`, `notice_vars`) may not take: the platform fills them. The settings
#: (contact, seal_note, remedy, correction_days, consequence) a variable may set.
SETTING_NAMES = frozenset({"contact", "seal_note", "remedy", "correction_days", "consequence"})
RESERVED = (CONTEXT_NAMES | LEGACY_NOTICE_NAMES | RENDERER_NAMES) - SETTING_NAMES
#: Platform events that count as decisions in `history` besides the workflow's own actions.
DECISION_EVENTS = frozenset({"submit", "answer_correction", "expire", "withdraw"})
#: A resident ID number inside free text.
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
_MASKED_FORMATS = {"cn-id-card": fmt.mask_id, "cn-mobile": fmt.mask_mobile}


# --------------------------------------------------------------------------- printable values


@dataclass(frozen=True)
class Titled:
    """An id with its title; prints as the title (`{{ category }}`, `{{ category.id }}`)."""

    id: str
    title: str

    def __str__(self) -> str:
        return self.title


@dataclass(frozen=True)
class StageRef:
    """A stage with its office; prints as the stage title."""

    id: str
    title: str
    office: str = ""

    def __str__(self) -> str:
        return self.title


@dataclass(frozen=True)
class Amount:
    """A computed value of rules.yaml; prints as its formatted text (money with its currency word, counts with unit)."""

    name: str
    title: str
    value: Any
    unit: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class HistoryEntry:
    action: str
    title: str
    stage: str
    office: str
    at: str


@dataclass(frozen=True)
class Happened:
    """One history event as the context needs it."""

    action: str
    from_stage: str | None
    at: datetime | None


@dataclass
class Facts:
    """Everything the context is built from (plain values: the check builds them for a sample)."""

    pinned: Any  # packs.versions.Pinned: form bundle, workflow, rules, parameters, manifest
    data: Mapping[str, Any]
    applicant_name: str = ""
    applicant_id_number: str = ""  # full; masked here, never handed to a template
    category: str | None = None
    number: str = ""
    application_id: int | None = None
    submitted_at: datetime | None = None
    stage: str | None = None
    office_of: Callable[[str | None], str] = field(default=lambda level: "")
    reason: str = ""
    deadline: date | None = None
    events: Sequence[Happened] = ()
    today: date | None = None
    mask_names: bool = False
    notice_id: str | None = None
    action_vars: Mapping[str, Any] | None = None


# --------------------------------------------------------------------------- building


def template_context(facts: Facts, household: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The documented variables (see the module docstring), plus the notice's settings and variables.

    `household` is `household_part(facts)` when the caller already has it (the check renders many
    notices of one sample application)."""
    from formflow.documents.notices import notice_settings
    from formflow.workflow.spec import parse_workflow, spec_for

    pinned = facts.pinned
    workflow = pinned.workflow or {}
    digest = (pinned.versions or {}).get("workflow")
    spec = spec_for(digest, workflow) if digest else parse_workflow(workflow)
    stage = spec.stages.get(facts.stage or "")
    owner_level = stage.owner.level if stage is not None and stage.owner is not None else None
    stage_ref = StageRef(facts.stage or "", stage.title if stage is not None else (facts.stage or ""),
                         facts.office_of(owner_level) if stage is not None else "")
    context: dict[str, Any] = {
        **(household if household is not None else household_part(facts)),
        "stage": stage_ref,
        "office": stage_ref.office,
        "reason": facts.reason or "",
        "deadline": facts.deadline,
        "history": _history(spec, facts.events, facts.office_of),
    }
    if facts.notice_id is not None:
        context.update(notice_settings(workflow, facts.notice_id, facts.action_vars))
    return context


def household_part(facts: Facts) -> dict[str, Any]:
    """The variables that depend on the application alone: applicant, members, address, category, amounts,
    params, data, application."""
    from formflow.forms.compiled import compiled_form

    pinned = facts.pinned
    workflow = pinned.workflow or {}
    form = compiled_form(pinned.versions["form"], pinned.documents["form"])
    data = dict(facts.data or {})
    try:
        pruned = form.prune_hidden(data)
        nodes = form.fields(pruned)
    except Exception:  # noqa: BLE001 - a broken draft must not stop a notice
        pruned, nodes = data, []
    by_path = {n.path: n for n in nodes}
    name = _name(facts.applicant_name, facts.mask_names)
    people = _people(nodes, by_path, facts.mask_names)
    masked_id = fmt.mask_id(facts.applicant_id_number)
    if people and (not masked_id or people[0]["id_number"] == masked_id):
        first = people.pop(0)
        name = name or first["name"]
        masked_id = masked_id or first["id_number"]
    matter = (pinned.manifest.get("matter") or {}).get("title") or workflow.get("title") or ""
    return {
        "applicant": {"name": name, "id_number": masked_id},
        "members": people,
        "address": _address(nodes),
        "category": Titled(facts.category or "", pinned.category_title(facts.category) if facts.category else ""),
        "amounts": _amounts(pinned, data, facts.today),
        "params": dict(pinned.ruleset.params),
        "data": _masked(pruned, by_path),
        "application": {
            "id": facts.application_id, "number": facts.number, "matter": str(matter),
            "submitted_at": fmt.local_time(facts.submitted_at),
            "submitted_on": fmt.local(facts.submitted_at).date() if facts.submitted_at else None,
            "link": f"/portal/applications/{facts.application_id}" if facts.application_id else "",
        },
    }


def _name(name: str, mask: bool) -> str:
    from formflow.allocation.register import mask_name

    return mask_name(name) if mask else (name or "")


def _people(nodes: Sequence[Any], by_path: Mapping[tuple[Any, ...], Any], mask: bool) -> list[dict[str, str]]:
    """Each household member the form lists (every editable ID number field, its `name` and `relation` beside it)."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for node in nodes:
        if node.fmt != "cn-id-card" or node.readonly or not isinstance(node.value, str) or not node.value:
            continue
        number = node.value.strip().upper()
        if number in seen:
            continue
        seen.add(number)
        parent = node.path[:-1]
        name_node = by_path.get((*parent, "name"))
        relation = by_path.get((*parent, "relation"))
        out.append({
            "name": _name(str(name_node.value or "") if name_node is not None else "", mask),
            "relation": _option_title(relation) if relation is not None else "",
            "id_number": fmt.mask_id(number),
        })
    return out


def _option_title(node: Any) -> str:
    for value, title in node.options or []:
        if value == node.value:
            return str(title)
    return "" if node.value in (None, "") else str(node.value)


def _address(nodes: Iterable[Any]) -> str:
    """The form's `current_address` (outside lists and e-licence copies), else its first `…address` field."""
    found = [n for n in nodes if n.kind == "field" and isinstance(n.value, str) and n.value.strip()
             and not n.readonly and not any(isinstance(p, int) for p in n.path)
             and isinstance(n.path[-1], str) and n.path[-1].endswith("address")]
    for node in found:
        if node.path[-1] == "current_address":
            return str(node.value)
    return str(found[0].value) if found else ""


def _amounts(pinned: Any, data: dict[str, Any], today: date | None) -> dict[str, Amount]:
    specs = (pinned.ruleset.rules.get("computed") or {})
    try:
        values = pinned.ruleset.computed(data, today or local_today())
    except Exception:  # noqa: BLE001 - rules over incomplete data give no amounts, not a failed notice
        values = {}
    out: dict[str, Amount] = {}
    for name, spec in specs.items():
        value = values.get(name)
        unit = str((spec or {}).get("unit") or "")
        text = fmt.with_unit(value, unit) if value is not None else ""
        out[name] = Amount(name, str((spec or {}).get("title") or name), value, unit, text)
    return out


def _history(spec: Any, events: Sequence[Happened], office_of: Callable[[str | None], str]) -> list[HistoryEntry]:
    from formflow.workflow.history import event_title

    out: list[HistoryEntry] = []
    for ev in events:
        stage = spec.stages.get(ev.from_stage or "")
        if stage is not None and ev.action in stage.actions:
            title = stage.actions[ev.action].title
        elif ev.action in spec.citizen:
            title = spec.citizen[ev.action].title
        elif ev.action in DECISION_EVENTS:
            title = event_title(ev.action)
        else:
            continue
        level = stage.owner.level if stage is not None and stage.owner is not None else None
        office = office_of(level) if level is not None and ev.action not in spec.citizen else ""
        out.append(HistoryEntry(ev.action, str(title), stage.title if stage is not None else "", office,
                                fmt.local_time(ev.at)))
    return out


def _masked(value: Any, by_path: Mapping[tuple[Any, ...], Any], path: tuple[Any, ...] = ()) -> Any:
    """The data with ID and mobile numbers masked (by the field's format, and any ID number in text)."""
    if isinstance(value, Mapping):
        return {k: _masked(v, by_path, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, by_path, (*path, i)) for i, v in enumerate(value)]
    if isinstance(value, str):
        node = by_path.get(path)
        masker = _MASKED_FORMATS.get(node.fmt or "") if node is not None else None
        if masker is not None:
            return masker(value)
        if value.startswith("data:"):
            return fmt.shown(value)
        return _ID_IN_TEXT.sub(lambda m: fmt.mask_id(m.group(0)), value)
    return value


# --------------------------------------------------------------------------- from the database


def _facts(session: Any, app: Any, keys: Any, **extra: Any) -> Facts:
    from sqlalchemy import select

    from formflow.db.models import Account, Event
    from formflow.packs.versions import load_pinned
    from formflow.workflow.access import office_name

    pinned = load_pinned(session, app.versions)
    applicant = session.get(Account, app.applicant_id)
    number = ""
    if applicant is not None and applicant.id_number_enc:
        try:
            if keys is None:
                from formflow.personal.crypto import active_keys

                keys = active_keys()
            number = keys.open(applicant.id_number_enc)
        except Exception:  # noqa: BLE001 - without keys the context shows no ID number, never a wrong one
            number = ""
    upto = extra.pop("upto_event", None)
    pending: Sequence[Any] = extra.pop("pending_events", ())
    query = select(Event).where(Event.application_id == app.id)
    if upto is not None:
        query = query.where(Event.id <= upto)
    rows = list(session.scalars(query.order_by(Event.id))) + [e for e in pending if e.id is None]
    offices: dict[str | None, str] = {}

    def office_of(level: str | None) -> str:
        if level not in offices:
            offices[level] = office_name(session, app, level) if level else ""
        return offices[level]

    return Facts(
        pinned=pinned, data=app.data or {}, applicant_name=applicant.display_name if applicant else "",
        applicant_id_number=number, category=app.category, number=app.number or "", application_id=app.id,
        submitted_at=app.submitted_at, office_of=office_of,
        events=[Happened(e.action, e.from_stage, e.at) for e in rows], **extra,
    )


def notice_context(session: Any, app: Any, keys: Any, *, notice_id: str, event_id: int | None = None,
                   reason: str = "", deadline: date | None = None, today: date | None = None) -> dict[str, Any]:
    """The context of notice `notice_id` issued by history event `event_id` (its stage, action and vars)."""
    from formflow.db.models import Event

    event = session.get(Event, event_id) if event_id is not None else None
    stage = event.from_stage if event is not None else app.stage
    action_vars = None
    if event is not None:
        action_vars = _action_vars(_pinned_workflow(session, app), event.from_stage, event.action)
    facts = _facts(session, app, keys, upto_event=event_id, stage=stage, reason=reason, deadline=deadline,
                   today=today, notice_id=notice_id, action_vars=action_vars)
    return template_context(facts)


def message_context(session: Any, app: Any, *, stage: str | None, deadline: date | None,
                    pending_events: Sequence[Any] = ()) -> dict[str, Any]:
    """The context of a message about `app` (names masked, as an SMS may show them)."""
    return template_context(_facts(session, app, None, stage=stage, deadline=deadline, mask_names=True,
                                   pending_events=pending_events, today=local_today()))


def local_today() -> date:
    """Today in the deployment's zone (Beijing)."""
    return datetime.now(fmt.zone()).date()


def _pinned_workflow(session: Any, app: Any) -> Mapping[str, Any]:
    from formflow.packs.versions import load_pinned

    return load_pinned(session, app.versions).workflow or {}


def _action_vars(workflow: Mapping[str, Any], stage: str | None, action: str) -> Mapping[str, Any] | None:
    """`notice_vars` of the action that issued a notice (a stage's action, else a citizen action)."""
    raw = ((((workflow.get("stages") or {}).get(stage or "") or {}).get("actions") or {}).get(action))
    if not isinstance(raw, Mapping):
        raw = (workflow.get("citizen") or {}).get(action)
    found = raw.get("notice_vars") if isinstance(raw, Mapping) else None
    return found if isinstance(found, Mapping) else None
