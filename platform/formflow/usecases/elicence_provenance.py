"""Where a prefilled value came from: the licence, the field, when — and whether it was changed since.

When an e-licence fills a field, one `ElicenceValue` row per leaf value
records the licence (the form's `x-source`), the time, who asked, the
provider and a keyed digest of the value (never the value: the row holds no
personal data). The desk shows each prefilled field with its licence and
time, and flags a value the citizen changed after the prefill (its digest no
longer matches), so the reviewer checks that one against the material.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.db.models import ElicenceValue, utcnow
from formflow.forms.render import Node, get_path


def _digest(services: Any, value: Any) -> str:
    return str(services.keys.lookup(json.dumps(value, ensure_ascii=False, sort_keys=True)))


def _leaves(path: tuple[Any, ...], value: Any) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves((*path, key), inner)
    else:
        yield path, value


def record_prefill(services: Any, db: Session, actor_id: int | None, app_id: int, node: Node, value: Any,
                   provider: str) -> None:
    """Record (or refresh) the provenance of every leaf `value` puts at `node` (in the caller's transaction)."""
    now = utcnow()
    for path, leaf in _leaves(tuple(node.path), value):
        name = ".".join(str(p) for p in path)
        row = db.scalar(select(ElicenceValue).where(ElicenceValue.application_id == app_id,
                                                    ElicenceValue.field == name))
        if row is None:
            row = ElicenceValue(application_id=app_id, field=name)
            db.add(row)
        row.source, row.digest, row.fetched_at = str(node.source), _digest(services, leaf), now
        row.fetched_by, row.provider = actor_id, provider


@dataclass(frozen=True)
class Provenance:
    """One prefilled field as the desk shows it."""

    field: str
    title: str
    source: str
    source_title: str
    fetched_at: datetime
    provider: str
    changed: bool


def provenance_of(services: Any, db: Session, app: Any) -> list[Provenance]:
    """Every prefilled field of the application, with whether its value changed since the prefill."""
    from formflow.applications import drafts as apps

    rows = list(db.scalars(select(ElicenceValue).where(ElicenceValue.application_id == app.id)
                           .order_by(ElicenceValue.id)))
    if not rows:
        return []
    data = app.data or {}
    titles: dict[str, str] = {}
    sources: dict[str, str] = {}
    for top in apps.form_of(apps.pinned_of(db, app)).fields(data):
        if top.source:
            sources.setdefault(top.source, top.title)
        for leaf in top.walk():
            titles.setdefault(leaf.name, leaf.title if leaf is top or not top.title else f"{top.title} · {leaf.title}")
    out = []
    for row in rows:
        path = tuple(int(p) if p.isdigit() else p for p in row.field.split("."))
        current = get_path(data, path)
        out.append(Provenance(row.field, titles.get(row.field, row.field), row.source,
                              sources.get(row.source, row.source), row.fetched_at, row.provider,
                              changed=_digest(services, current) != row.digest))
    return out
