"""Bounds on what a draft may hold, checked on every save (web and API) before anything is built.

A draft is saved without validation (a person may stop half-way), so without
bounds a client could store 6,000 co-applicants where the form allows 10, or a
10 MB string in a 50-character field. Here:

- `check_path`: a place named by a client (a field name, a signature field, a
  file list) must be one of the pinned form's, with every list index below the
  list's `maxItems` (or `INDEX_CAP` where the form gives none) — refused before
  any list is grown to reach it;
- `check_data`: every list no longer than its `maxItems`, every string no longer
  than its `maxLength` (or `STRING_CAP`), the whole draft at most `DRAFT_LIMIT`
  bytes of JSON.

Refusals are `DraftOutOfBounds` (422, naming the field), the same on every channel.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from formflow.applications.errors import ApplicationError
from formflow.forms.errors import pointer
from formflow.text.catalogue import _
from formflow.text.errors import FieldProblem

#: Highest list length where the form sets no `maxItems`.
INDEX_CAP = 200
#: Longest string where the form sets no `maxLength` (a signature data URL is re-encoded far below it).
STRING_CAP = 200_000
#: Largest draft, as compact JSON (UTF-8 bytes).
DRAFT_LIMIT = 2 * 1024 * 1024


class DraftOutOfBounds(ApplicationError):
    """A save that would store more than the form allows; nothing is stored."""

    code = "out_of_bounds"
    status = 422


def _first(frags: list[Any], key: str) -> Any:
    for f in frags:
        if isinstance(f.schema, dict) and key in f.schema:
            return f.schema[key]
    return None


def _refuse(path: tuple[Any, ...], message: str, status: int | None = None) -> DraftOutOfBounds:
    return DraftOutOfBounds(message, status=status, fields=[FieldProblem(pointer(path), message)])


def check_indexes(form: Any, path: tuple[Any, ...]) -> None:
    """Every list index of `path` below its list's cap, else `DraftOutOfBounds` (400: a malformed request)."""
    where = ".".join(str(p) for p in path)
    for depth, segment in enumerate(path):
        if isinstance(segment, int):
            limit = _first(form.schema_at(path[:depth]), "maxItems")
            cap = limit if isinstance(limit, int) else INDEX_CAP
            if not 0 <= segment < cap:
                raise _refuse(path, _("%(field)s: there can be at most %(n)s entries here", field=where, n=cap),
                              status=400)


def check_path(form: Any, path: tuple[Any, ...]) -> None:
    """`path` is a place of `form` whose list indexes are all within their caps, else `DraftOutOfBounds` (400)."""
    check_indexes(form, path)
    if not path or not form.schema_at(path):
        where = ".".join(str(p) for p in path)
        raise _refuse(path, _("This form has no field %(field)s", field=where), status=400)


def check_names(form: Any, names: Any) -> None:
    """Posted field names (`a.b.0.c`, `a.b.__count`): list indexes within their caps, else 400, before parsing."""
    for name in names:
        parts = str(name).split(".")
        if parts and parts[-1].startswith("__"):
            parts = parts[:-1]
        check_indexes(form, split(".".join(parts)))


def split(dotted: str) -> tuple[Any, ...]:
    """A dotted field name as a path: only ASCII digits make a list index."""
    return tuple(int(p) if p.isascii() and p.isdigit() else p for p in dotted.split("."))


def _leaves(value: Any) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every list and string of `value` with its path (lists before what they hold)."""
    stack: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            yield path, node
            stack.extend(((*path, i), v) for i, v in enumerate(node))
        elif isinstance(node, str):
            yield path, node


def check_data(form: Any, data: Any) -> None:
    """Every list and string of the draft within the form's bounds, the draft within `DRAFT_LIMIT`."""
    size = len(json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode())
    if size > DRAFT_LIMIT:
        raise DraftOutOfBounds(_("The application data is too large (%(kb)s KB, at most %(limit)s KB)",
                                 kb=size // 1024, limit=DRAFT_LIMIT // 1024))
    for path, value in _leaves(data):
        frags = form.schema_at(path) if path else []
        where = ".".join(str(p) for p in path)
        if isinstance(value, list):
            limit = _first(frags, "maxItems")
            cap = limit if isinstance(limit, int) else INDEX_CAP
            if len(value) > cap:
                raise _refuse(path, _("%(field)s: there can be at most %(n)s entries here", field=where, n=cap))
        else:
            limit = _first(frags, "maxLength")
            cap = limit if isinstance(limit, int) else STRING_CAP
            if len(value) > cap:
                raise _refuse(path, _("At most %(n)s characters", n=cap))


__all__ = ["DRAFT_LIMIT", "DraftOutOfBounds", "INDEX_CAP", "STRING_CAP", "check_data", "check_indexes", "check_names",
           "check_path", "split"]
