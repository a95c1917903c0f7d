"""The service-hall window's page: what a clerk may start, where, and what they started and assisted.

Starting itself is `usecases.start.start_at_window` (the same checks as every channel); this is
what the window shows around it, with the status words of `applications.status` and the
e-licence data masked (`usecases.start.window_started`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.db.models import Account, Application, Office
from formflow.usecases import start as start_uc
from formflow.usecases import viewing


@dataclass
class WindowPage:
    choices: list[tuple[Any, Any]]  # (pack, matter) the clerk may start
    regions: list[tuple[Any, Office]]  # (pack, region) an application may be started in
    parents: dict[str, str]  # region id → its parent's name
    channels: dict[str, list[dict[str, Any]]]  # pack id → its assisted channels
    started: viewing.Summary | None = None  # the application just started
    licences: list[Any] = field(default_factory=list)  # its e-licence data, masked
    recent: list[viewing.Summary] = field(default_factory=list)  # what this clerk assisted, newest first


def assisted(services: Any, db: Session, clerk: Account, *, limit: int = 20) -> list[viewing.Summary]:
    """The applications this clerk started at the window, newest first."""
    rows = db.scalars(select(Application).where(Application.assisted_by_id == clerk.id)
                      .order_by(Application.id.desc()).limit(limit))
    return [viewing.summary(db, app) for app in rows]


def window_page(services: Any, db: Session, clerk: Account, started_id: int | None = None) -> WindowPage:
    """Everything the window page shows (`started_id`: the application just started, shown with its e-licences)."""
    choices = start_uc.window_choices(services, db, clerk)
    regions = list({(p.id, o.id): (p, o) for p, m in choices
                    for o in start_uc.owning_regions(services, db, p.id, m.id)}.values())
    page = WindowPage(choices=choices, regions=regions, parents=start_uc.parent_names(db, [o for _p, o in regions]),
                      channels={p.id: start_uc.channels(p, assisted=True) for p, _m in choices},
                      recent=assisted(services, db, clerk))
    if started_id:
        app, page.licences = start_uc.window_started(services, db, clerk, started_id)
        page.started = viewing.summary(db, app)
    return page


__all__ = ["WindowPage", "assisted", "window_page"]
