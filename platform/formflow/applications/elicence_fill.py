"""Filling a draft from e-licences: the provider's record copied into the fields the form marks `x-source`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from formflow.applications.pinned import form_of  # noqa: E402
from formflow.applications.validation import _title_at, form_errors  # noqa: F401 (_title_at: usecases.identity)
from formflow.forms.render import FormSchema, Node, set_path
from formflow.packs.versions import Pinned
from formflow.text.catalogue import _

# --------------------------------------------------------------------------- files and e-licences


def elicence_values(form: FormSchema, data: Mapping[str, Any], node: Node, record: Mapping[str, Any],
                    id_number: str) -> Any:
    """What an `x-source` field receives from an e-licence record (objects: their known properties)."""
    if node.kind == "object":
        out: dict[str, Any] = {}
        for child in node.children:
            key = str(child.path[-1])
            value = _record_value(record, key, id_number)
            if value is not None:
                out[key] = value
        return out
    return _record_value(record, str(node.path[-1]), id_number)


def _record_value(record: Mapping[str, Any], key: str, id_number: str) -> Any:
    if key in record:
        value = record[key]
        return str(value) if isinstance(value, date) else value
    if key == "id_number":
        return id_number
    tail = key.rsplit("_", 1)[-1]
    if tail in record and not isinstance(record[tail], (dict, list)):
        return record[tail]
    return None


def fetch_elicences(pinned: Pinned, data: dict[str, Any], provider: Any, id_number: str,
                    only: str | None = None) -> list[str]:
    """Fill every `x-source` field (or only the one at dotted `only`) from the provider.

    Returns the problems to show (an unavailable service, a missing licence).
    """
    from formflow.integrations.elicence import ElicenceUnavailable

    form = form_of(pinned)
    problems: list[str] = []
    cache: dict[str, Any] = {}
    for node in form.fields(data):
        if not node.source or (only and node.name != only):
            continue
        if node.source not in cache:
            try:
                cache[node.source] = provider.fetch(node.source, id_number)
            except ElicenceUnavailable as exc:
                problems.append(str(exc))
                cache[node.source] = None
                continue
            if cache[node.source] is None:
                problems.append(_("No %(title)s e-licence was found for you; please upload it or check it at the "
                                  "window", title=node.title))
        record = cache[node.source]
        if record is None:
            continue
        value = elicence_values(form, data, node, record, id_number)
        if value not in (None, {}, ""):
            set_path(data, node.path, value)
    return sorted(set(problems))
