"""A form's problems with its data: each at its field, the field named as the form titles it.

The label comes from the error's structure — its path, the schema that failed — and the form's
titles (through `$ref`s); the message text is never cut apart, so every language gets the same
labels. Used by `applications.drafts` (steps, submission) for the pinned form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema.exceptions import ValidationError, best_match

from formflow.forms.compiled import CompiledForm
from formflow.forms.errors import FieldError, _missing_property, translate
from formflow.forms.errors import pointer as to_pointer
from formflow.forms.formats import FORMAT_MESSAGES, explain_format
from formflow.forms.render import FormSchema
from formflow.forms.schema import iter_errors
from formflow.text.catalogue import _


def _format_messages() -> dict[str, Any]:
    return {name: (lambda v, name=name: explain_format(name, v) or FORMAT_MESSAGES[name]) for name in FORMAT_MESSAGES}


def form_errors(form: FormSchema, validator: Any, data: Mapping[str, Any]) -> list[FieldError]:
    """Every problem of the (pruned) data against the form, at the field, named as the form titles it.

    A compiled form's jsonschema-rs check decides first: valid data never walks the Python validator,
    which runs only to word the errors of invalid data (so every message is the same).
    """
    if isinstance(form, CompiledForm) and validator is form.validator and form.valid_as_is(data):
        return []  # nothing to prune and valid: what the pruned data's check below would say
    pruned = form.pruned(dict(data)) if isinstance(form, CompiledForm) else form.prune_hidden(dict(data))
    if isinstance(form, CompiledForm) and validator is form.validator and form.valid(pruned):
        return []  # a value rs cannot take: the Python path decides
    raw = iter_errors(validator, pruned)
    messages = _format_messages()
    out: dict[tuple[str, str], FieldError] = {}
    for error in raw:
        fixed = _field_error(form, error, messages)
        out.setdefault((fixed.pointer, fixed.message), fixed)
    for error in raw:
        if error.validator in ("contains", "minContains"):
            contained = _contains_message(form, error)
            if contained is not None:
                fixed = contained
                out = {k: v for k, v in out.items() if k[0] != fixed.pointer}
                out[(fixed.pointer, fixed.message)] = fixed
    return sorted(out.values(), key=lambda e: e.pointer)


def _title_at(form: FormSchema, path: tuple[Any, ...]) -> str | None:
    from formflow.forms.render import _first

    title = _first([f for f in form.schema_at(path)], "title")
    return str(title) if title else None


def _with_schema(error: ValidationError, schema: dict[str, Any]) -> ValidationError:
    """The same error, judged against `schema` (the failing schema as the form titles it)."""
    copied = ValidationError.create_from(error)
    copied.schema = schema
    return copied


def _own_schema(form: FormSchema, path: tuple[Any, ...], schema: Any) -> bool:
    """Is `schema` the field's own schema (written at the field), rather than a shared type it refers to?"""
    return any(frag.schema is schema for frag in form.schema_at(path))


def _field_error(form: FormSchema, error: ValidationError, messages: dict[str, Any]) -> FieldError:
    """One schema error at its field, the field named by the form's title there (through `$ref`s), never by its key.

    The label comes from the error's structure — its path and the schema that failed — and the form's
    titles; the message text itself is never cut. A format's explanation names the kind of value
    ("the resident ID number has a wrong check digit"): the field's title goes before it only when
    the field is titled otherwise than that shared type.
    """
    if error.validator in ("anyOf", "oneOf") and error.context:
        return _field_error(form, best_match(error.context), messages)
    path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = error.validator
    if kind == "required":
        missing = _missing_property(error)
        title = _title_at(form, (*path, missing))
        if title is None:
            return translate(error, messages)
        props = dict(schema.get("properties") or {})
        known = props.get(missing)
        props[missing] = {**(known if isinstance(known, dict) else {}), "title": title}
        return translate(_with_schema(error, {**schema, "properties": props}), messages)
    if kind == "dependentRequired" and isinstance(error.instance, dict):
        for trigger, needed in (error.validator_value or {}).items():
            absent = [n for n in needed if n not in error.instance] if trigger in error.instance else []
            if absent:
                return FieldError(to_pointer([*path, absent[0]]), _(
                    "%(field)s: required (because %(trigger)s is filled in)",
                    field=_title_at(form, (*path, absent[0])) or absent[0],
                    trigger=_title_at(form, (*path, trigger)) or trigger))
    title = _title_at(form, path)
    if kind == "format":
        bare = translate(_with_schema(error, {k: v for k, v in schema.items() if k != "title"}), messages)
        if title and (title != schema.get("title") or _own_schema(form, path, error.schema)):
            return FieldError(bare.pointer, _("%(title)s: %(message)s", title=title, message=bare.message))
        return bare
    if title and not schema.get("title"):
        return translate(_with_schema(error, {**schema, "title": title}), messages)
    return translate(error, messages)


def _contains_message(form: FormSchema, error: Any) -> FieldError | None:
    """`contains`/`minContains` with a `const` → "a co-applicant must have relation 'spouse'" (catalogue words)."""
    from formflow.forms.render import _first

    schema = error.schema if isinstance(error.schema, dict) else {}
    wanted = schema.get("contains") if isinstance(schema.get("contains"), dict) else None
    if wanted is None:
        return None
    path = tuple(error.absolute_path)
    parts = []
    for prop, sub in (wanted.get("properties") or {}).items():
        if isinstance(sub, dict) and "const" in sub:
            frags = form.schema_at((*path, 0, prop))
            ptitle = _first(frags, "title") or prop
            enum = _first(frags, "enum") or []
            titles = _first(frags, "x-enum-titles") or []
            known = sub["const"] in enum and len(titles) == len(enum)
            shown = titles[enum.index(sub["const"])] if known else sub["const"]
            parts.append(_("“%(field)s” is “%(value)s”", field=ptitle, value=shown))
    if not parts:
        return None
    title = _title_at(form, path) or _("This item")
    minimum = schema.get("minContains", 1)
    maximum = schema.get("maxContains")
    which = _(", ").join(parts)
    if maximum is not None and minimum == 0:
        return FieldError(to_pointer(path), _("%(title)s: at most %(n)s items where %(which)s",
                                              title=title, n=maximum, which=which))
    return FieldError(to_pointer(path), _("%(title)s must have an item where %(which)s", title=title, which=which))


__all__ = ["form_errors"]
