"""An application's pinned form: the compiled form of its version and where it keeps the category."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from formflow.applications.validation import _title_at, form_errors  # noqa: F401 (_title_at: usecases.identity)
from formflow.db.models import (
    Application,
)
from formflow.forms.compiled import CompiledForm, compiled_form
from formflow.forms.render import FormSchema, get_path
from formflow.packs.versions import Pinned, load_pinned

# --------------------------------------------------------------------------- pinned form


def pinned_of(session: Session, app: Application) -> Pinned:
    return load_pinned(session, app.versions)


def form_of(pinned: Pinned) -> CompiledForm:
    """The compiled form of the pinned form version (built once per version and process)."""
    return compiled_form(pinned.versions["form"], pinned.documents["form"])


def category_path(form: FormSchema) -> tuple[Any, ...] | None:
    """Where the form keeps the applicant category (the field marked `x-category`)."""
    if isinstance(form, CompiledForm):
        return form.category_path
    if hasattr(form, "_category_path"):
        cached: tuple[Any, ...] | None = form._category_path
        return cached

    found = None

    def visit(schema: Any, path: tuple[Any, ...], resolver: Any, depth: int = 0) -> None:
        nonlocal found
        if found is not None or not isinstance(schema, dict) or depth > 12:
            return
        for frag in form._deref(_frag(schema, resolver)):
            if frag.schema.get("x-category") is True:
                found = path
                return
            for name, sub in (frag.schema.get("properties") or {}).items():
                visit(sub, (*path, name), frag.resolver, depth + 1)

    visit(form.root, (), form.resolver)
    form._category_path = found  # type: ignore[attr-defined]
    return found


def _frag(schema: Any, resolver: Any):
    from formflow.forms.render import Frag

    return Frag(schema, resolver)


def category_of(pinned: Pinned, data: Mapping[str, Any]) -> str | None:
    path = category_path(form_of(pinned))
    value = get_path(data, path) if path else None
    return value if isinstance(value, str) else None
