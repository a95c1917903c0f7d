"""Every notice of a matter rendered against a sample application; every undefined variable is a problem.

The sample is generated from the form's schema (each field holds a value of its type: its
first enum value, its title as text…), its context built by the one function every notice
uses (`documents.context.template_context`), once per action that issues the notice (with
that action's `notice_vars`). Rendering uses an undefined that records each use with the
template file and line (from the Jinja frame on the stack) instead of stopping at the
first, so one run lists them all. Message texts of messages.yaml are rendered the same way.
A template that does not parse, or is missing, is a problem too.
"""

from __future__ import annotations

import contextvars
import sys
import traceback
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from jinja2 import ChainableUndefined, FileSystemLoader, TemplateNotFound, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment

from formflow.packs.checks.matter import MatterCheck
from formflow.packs.inherit import lineage
from formflow.text.catalogue import _

#: A sample resident ID number (only its masked form reaches a template).
SAMPLE_ID = "110101199003070011"
SAMPLE_DAY = date(2026, 3, 2)
_SEEN: contextvars.ContextVar[list[tuple[str, int, str]] | None] = contextvars.ContextVar("undefined_uses",
                                                                                         default=None)


def _template_line() -> tuple[str, int]:
    """(template file, line) of the innermost template frame on the stack."""
    frame = sys._getframe(1)
    while frame is not None:
        template = frame.f_globals.get("__jinja_template__")
        if template is not None:
            return str(template.filename or template.name or ""), int(template.get_corresponding_lineno(
                frame.f_lineno))
        frame = frame.f_back  # type: ignore[assignment]
    return "", 0


class RecordingUndefined(ChainableUndefined):
    """An undefined that notes where it is used (and prints nothing), so rendering goes on."""

    __slots__ = ()

    def _note(self) -> None:
        seen = _SEEN.get()
        if seen is None:
            return
        file, line = _template_line()
        seen.append((file, line, self._undefined_message))

    def __str__(self) -> str:
        self._note()
        return ""

    def __html__(self) -> str:
        self._note()
        return ""

    def __iter__(self) -> Iterator[Any]:
        self._note()
        return iter(())

    def __bool__(self) -> bool:
        self._note()
        return False

    def __len__(self) -> int:
        self._note()
        return 0

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
        self._note()
        return super()._fail_with_undefined_error(*args, **kwargs)


def _environment(folders: list[Path], *, html: bool) -> SandboxedEnvironment:
    return _cached_environment(tuple(str(f) for f in folders), html)


@lru_cache(maxsize=64)
def _cached_environment(folders: tuple[str, ...], html: bool) -> SandboxedEnvironment:
    """One environment per folder list (templates parsed once per process, parsed again when changed)."""
    from formflow.documents.pdf import cn_date

    env_class = ImmutableSandboxedEnvironment if html else SandboxedEnvironment
    env = env_class(loader=FileSystemLoader(list(folders)) if html else None, autoescape=html,
                    undefined=RecordingUndefined, keep_trailing_newline=False)
    env.filters["cn_date"] = cn_date
    return env


def forget_check_environments() -> None:
    """Drop the check's parsed templates once a load is checked (a serving process never needs them again)."""
    _cached_environment.cache_clear()


def render_recording(env: SandboxedEnvironment, name: str | None, source: str | None,
                     context: Mapping[str, Any]) -> tuple[list[tuple[str, int, str]], Exception | None]:
    """Render a template (by name, or from source); the undefined uses (file, line, what) and any error."""
    token = _SEEN.set([])
    error: Exception | None = None
    try:
        template = env.get_template(name) if name is not None else env.from_string(source or "")
        template.render(dict(context))
    except Exception as exc:  # noqa: BLE001 - any failure of a configurator's template is a problem to report
        error = exc
    seen = _SEEN.get() or []
    _SEEN.reset(token)
    return list(dict.fromkeys(seen)), error


def error_line(exc: BaseException) -> tuple[str, int]:
    """(template file, line) of an error raised while rendering (syntax errors carry their own)."""
    if isinstance(exc, TemplateSyntaxError):
        return str(exc.filename or exc.name or ""), int(exc.lineno or 0)
    for frame, lineno in reversed(list(traceback.walk_tb(exc.__traceback__))):
        template = frame.f_globals.get("__jinja_template__")
        if template is not None:
            return str(template.filename or ""), int(template.get_corresponding_lineno(lineno))
        if frame.f_code.co_filename.endswith(".html"):  # a rewritten traceback: the template's own line
            return frame.f_code.co_filename, lineno
    return "", 0


# --------------------------------------------------------------------------- the sample application


def _resolve(ref: str, base: str, docs: Mapping[str, Any]) -> tuple[Any, str]:
    uri = urljoin(base, ref)
    doc_uri, _hash, fragment = uri.partition("#")
    node: Any = docs.get(doc_uri)
    for part in [p for p in fragment.split("/") if p]:
        node = node.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(node, Mapping) else None
    return node, doc_uri


def sample_value(schema: Any, base: str, docs: Mapping[str, Any], key: str = "", depth: int = 0) -> Any:
    """A value of `schema`'s type: objects with every property, arrays with one item, enums their first value."""
    if not isinstance(schema, Mapping) or depth > 30:
        return None
    if isinstance(schema.get("$ref"), str):
        target, base = _resolve(schema["$ref"], base, docs)
        merged = {**(target or {}), **{k: v for k, v in schema.items() if k != "$ref"}}
        return sample_value(merged, base, docs, key, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        return {k: sample_value(v, base, docs, k, depth + 1) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        if schema.get("x-widget") == "file":
            return []
        return [sample_value(schema.get("items"), base, docs, key, depth + 1)]
    if kind == "boolean":
        return True
    if kind == "integer":
        return 2
    if kind == "number":
        return 1000
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "cn-id-card":
            return SAMPLE_ID
        if fmt == "cn-mobile":
            return "13800000000"
        if fmt == "date":
            return SAMPLE_DAY.isoformat()
        if schema.get("x-widget") == "signature":
            return ""
        return str(schema.get("title") or key)
    return None


def sample_data(bundle: Mapping[str, Any]) -> dict[str, Any]:
    docs = dict(bundle.get("common") or {}) | {bundle["uri"]: bundle["form"]}
    value = sample_value(bundle["form"], bundle["uri"], docs)
    return value if isinstance(value, dict) else {}


# --------------------------------------------------------------------------- the check


def _issuers(workflow: Mapping[str, Any], notice_id: str) -> list[tuple[str | None, str, Any]]:
    """(stage, action, notice_vars) of every action issuing the notice (stage None: a citizen action)."""
    out: list[tuple[str | None, str, Any]] = []
    for sid, stage in (workflow.get("stages") or {}).items():
        for aid, action in ((stage or {}).get("actions") or {}).items():
            if isinstance(action, Mapping) and action.get("notice") == notice_id:
                out.append((sid, aid, action.get("notice_vars")))
    for aid, action in (workflow.get("citizen") or {}).items():
        if isinstance(action, Mapping) and action.get("notice") == notice_id:
            out.append((None, aid, action.get("notice_vars")))
    return out


def _pinned(check: MatterCheck, packset: Any) -> Any:
    from formflow.packs.versions import Pinned, _documents, content_hash

    documents = _documents(packset, check.pack.id, check.matter.id)
    versions = {k: content_hash(v) for k, v in documents.items() if k in ("form", "workflow") and v is not None}
    return Pinned(versions, documents)


def _context(check: MatterCheck, pinned: Any, data: dict[str, Any], stage: str | None, action: str | None,
             notice_id: str | None, action_vars: Any, *, mask: bool,
             households: dict[bool, dict[str, Any]]) -> dict[str, Any]:
    """The sample's context for one notice and action (`households`: the application's part, kept per mask)."""
    from formflow.documents.context import Facts, Happened, household_part, template_context

    at = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    events = [Happened("submit", None, at)] + ([Happened(action, stage, at)] if action else [])
    category_path = getattr(pinned_form(pinned), "category_path", None)
    category = None
    if category_path:
        from formflow.forms.render import get_path

        found = get_path(data, tuple(category_path))
        category = str(found) if found is not None else None
    facts = Facts(pinned=pinned, data=data, applicant_id_number=SAMPLE_ID, category=category, number="A2026-1",
                  application_id=1, submitted_at=at, stage=stage, office_of=lambda level: str(level or ""),
                  reason=str(_("Sample reason")), deadline=SAMPLE_DAY, events=events, today=SAMPLE_DAY,
                  mask_names=mask, notice_id=notice_id,
                  action_vars=action_vars if isinstance(action_vars, Mapping) else None)
    if mask not in households:
        households[mask] = household_part(facts)
    return template_context(facts, households[mask])


def pinned_form(pinned: Any) -> Any:
    from formflow.forms.compiled import compiled_form

    return compiled_form(pinned.versions["form"], pinned.documents["form"])


def check_templates(check: MatterCheck, packset: Any) -> None:
    """Render every notice (and message text) of the matter against a sample; report what is undefined."""
    workflow = check.workflow
    if check.matter.form is None or check.form is None or not isinstance(workflow, dict) or not workflow:
        return
    pinned = _pinned(check, packset)
    try:
        pinned_form(pinned)
    except Exception:  # noqa: BLE001 - a form that does not compile is reported by the form checks
        return
    data = sample_data(pinned.documents["form"])
    reported: set[tuple[str, str, str]] = set()
    undefined: dict[tuple[str, int, str], list[str]] = {}
    households: dict[bool, dict[str, Any]] = {}
    wf_path = check.matter.workflow.path if check.matter.workflow else check.matter.form.path
    for notice_id, notice in (workflow.get("notices") or {}).items():
        if isinstance(notice, Mapping):
            _check_notice(check, pinned, data, str(notice_id), notice, wf_path, reported, undefined, households)
    for (file, line, what), notices in undefined.items():
        _report(check, reported, file, "", _(
            "Line %(line)s: the template uses a variable the context does not have (%(what)s; notice %(notices)s "
            "of %(workflow)s)", line=line, what=what, notices=_(", ").join(dict.fromkeys(notices)),
            workflow=check.reader.rel(wf_path)))
    for where, action in _actions(workflow):
        if "notice_vars" in action and not action.get("notice"):
            _report(check, reported, wf_path, f"{where}/notice_vars",
                    _("notice_vars is set on an action that issues no notice"))
    _check_messages(check, pinned, data, reported, households)


def _actions(workflow: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(JSON pointer, action) of every stage action and citizen action."""
    for sid, stage in (workflow.get("stages") or {}).items():
        for aid, action in ((stage or {}).get("actions") or {}).items():
            if isinstance(action, Mapping):
                yield f"/stages/{sid}/actions/{aid}", action
    for aid, action in (workflow.get("citizen") or {}).items():
        if isinstance(action, Mapping):
            yield f"/citizen/{aid}", action


def _report(check: MatterCheck, reported: set[tuple[str, str, str]], file: str | Path, pointer: str,
            message: str) -> None:
    path = Path(file)
    key = (str(path), pointer, message)
    if key not in reported:
        reported.add(key)
        check.reader.problem(path, pointer, message)


def _check_notice(check: MatterCheck, pinned: Any, data: dict[str, Any], notice_id: str, notice: Mapping[str, Any],
                  wf_path: Path, reported: set[tuple[str, str, str]],
                  undefined: dict[tuple[str, int, str], list[str]], households: dict[bool, dict[str, Any]]) -> None:
    from formflow.documents.context import RESERVED
    from formflow.documents.notices import legacy_names, template_dirs

    template = str(notice.get("template") or f"documents/{notice_id}.html")
    dirs, name = template_dirs(check.renderers, check.pack.id, template, lineage(check.pack.manifest.content))
    env = _environment(dirs, html=True)
    issuers = _issuers(check.workflow, notice_id) or [(None, "", None)]
    for stage, action, action_vars in issuers:
        for key in sorted(set(action_vars or {}) & RESERVED) if isinstance(action_vars, Mapping) else ():
            where = f"/stages/{stage}/actions/{action}/notice_vars/{key}" if stage else \
                f"/citizen/{action}/notice_vars/{key}"
            _report(check, reported, wf_path, where, _(
                "%(name)s is filled by the platform and cannot be a notice variable", name=repr(key)))
        context = {
            **legacy_names(applicant_name="", id_number_masked="", matter_title=check.matter.title,
                           application_no="A2026-1", submitted_on=SAMPLE_DAY),
            **_context(check, pinned, data, stage, action or None, notice_id, action_vars, mask=False,
                       households=households),
            "office_name": str(_("Sample office")), "missing": [{"title": check.matter.title, "requirement": None}],
            "time_limit": None, "title": str(notice.get("title") or notice_id), "number": "1",
            "issued_on": SAMPLE_DAY, "cid": frozenset(),
        }
        context["applicant_name"] = context["applicant"]["name"]
        context["id_number_masked"] = context["applicant"]["id_number"]
        seen, error = render_recording(env, name, None, context)
        who = _("notice %(notice)s", notice=repr(notice_id)) if not action else _(
            "notice %(notice)s issued by %(action)s", notice=repr(notice_id), action=repr(action))
        for use in seen:
            undefined.setdefault(use, []).append(notice_id)
        if isinstance(error, TemplateNotFound):
            _report(check, reported, wf_path, f"/notices/{notice_id}/template", _(
                "Template %(template)s does not exist (looked up in renderers/%(pack)s/ and renderers/)",
                template=repr(template), pack=check.pack.id))
        elif error is not None:
            file, line = error_line(error)
            _report(check, reported, file or str(wf_path), "" if file else f"/notices/{notice_id}/template", _(
                "Line %(line)s: the template cannot be rendered: %(error)s (%(who)s)", line=line,
                error=getattr(error, "message", None) or error, who=who))
    for key in sorted(set(_vars_keys(check.workflow, notice_id)) & RESERVED):
        _report(check, reported, wf_path, f"/notices/{notice_id}/vars/{key}", _(
            "%(name)s is filled by the platform and cannot be a notice variable", name=repr(key)))


def _vars_keys(workflow: Mapping[str, Any], notice_id: str) -> list[str]:
    own = ((workflow.get("notices") or {}).get(notice_id) or {}).get("vars") or {}
    defaults = (workflow.get("notice_defaults") or {}).get("vars") or {}
    return list(own) + list(defaults)


def _check_messages(check: MatterCheck, pinned: Any, data: dict[str, Any], reported: set[tuple[str, str, str]],
                    households: dict[bool, dict[str, Any]]) -> None:
    from formflow.notifications.kinds import VARIABLES

    doc = check.matter.messages
    if doc is None or not isinstance(doc.content, dict):
        return
    base = _context(check, pinned, data, None, None, None, None, mask=True, households=households)
    context = {name: base.get(name, "") for name in VARIABLES} | {
        "name": base["applicant"]["name"], "matter": check.matter.title, "stage": base["stage"],
        "deadline": SAMPLE_DAY.isoformat(), "number": "A2026-1", "link": "/portal/applications/1"}
    env = _environment([], html=False)
    for kid, kind in (doc.content.get("kinds") or {}).items():
        if not isinstance(kind, Mapping):
            continue
        for part in ("title", "body"):
            source = kind.get(part)
            if not isinstance(source, str):
                continue
            try:
                env.parse(source)
            except TemplateSyntaxError:
                continue  # reported by the messages check
            seen, _error = render_recording(env, None, source, context)
            for _file, _line, what in seen:
                if "is undefined" in what:
                    continue  # an unknown top-level name: reported by the messages check
                _report(check, reported, doc.path, f"/kinds/{kid}/{part}", _(
                    "The template uses a value the context does not have (%(what)s)", what=what))
