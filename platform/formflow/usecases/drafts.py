"""Saving a draft: the portal's step POST, the API's PUT data and PATCH step all call `save_step`.

It keeps the applicant's bound identity (`usecases.identity`), fetches e-licences
again when asked (`usecases.elicences`, recorded), and stores the data with its
history event in the caller's transaction (`applications.drafts.save_draft`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from formflow.applications import drafts as apps
from formflow.db.models import Account, Application
from formflow.forms.render import get_path
from formflow.text.catalogue import _
from formflow.usecases import elicences
from formflow.usecases.identity import KEYS, check_bound, identity_of
from formflow.usecases.identity import _same as same_value

#: The history action of a save that fetched e-licences again.
ELICENCE_FETCHED = "elicence_fetched"


@dataclass
class Saved:
    """The saved draft and what to tell the person (e-licence problems)."""

    app: Application
    problems: list[str] = field(default_factory=list)


def save_step(services: Any, db: Session, actor: Account, app_id: int, data: Mapping[str, Any], *,
              expected_version: int | None, step: str | None = None, refresh: bool = False,
              only: str | None = None, action: str = "draft_saved", note: str | None = None) -> Saved:
    """Store the draft's data (no completeness check) as `actor` (the applicant or the assisting clerk).

    Refuses (nothing stored) a draft `actor` may not edit, a stale `expected_version`,
    and a change of the applicant's name or ID number away from the verified identity.
    `refresh`: fetch the e-licences again (all, or the field at dotted `only`) into the data.
    """
    actor = db.get(Account, actor.id) or actor
    app = apps._draft(db, app_id, expected_version, actor)
    pinned = apps.pinned_of(db, app)
    new = copy.deepcopy(dict(data))
    identity = identity_of(services, db, app)
    if not _keeps_identity(app.data or {}, new, identity):
        check_bound(pinned, app.data, new, identity)
    problems: list[str] = []
    if refresh:
        problems = elicences.fetch_elicences(services, db, actor, app, purpose=elicences.REFRESH, only=only,
                                             data=new)
        action, note = ELICENCE_FETCHED, note or _("E-licences fetched again")
    saved = apps.save_draft(db, app_id, new, actor=actor, expected_version=expected_version, step=step,
                            today=services.today(), action=action, note=note)
    return Saved(saved, problems)


def _keeps_identity(old: Mapping[str, Any], new: Mapping[str, Any], identity: Mapping[str, str] | None) -> bool:
    """True when `check_bound` cannot refuse `new`, found without walking the form.

    A bound field is a place outside any list whose key is in `identity.KEYS`; each such place of
    `new` holding a value is checked as `bound_identity_problems` checks a bound field (empty, the
    verified value or the stored one). When every one passes, whichever of them the form binds
    passes too; otherwise False and the form decides.
    """
    if not identity or not identity.get("id_number"):
        return True
    for path, value in _keyed_places(new, ()):
        if value in (None, ""):
            continue
        key = str(path[-1])
        if not (same_value(key, value, identity.get(key)) or same_value(key, value, get_path(old, path))):
            return False
    return True


def _keyed_places(data: Any, path: tuple[str, ...]):
    """(path, value) of every key in `KEYS` reached through objects only (list items are never bound)."""
    if not isinstance(data, Mapping):
        return
    for key, value in data.items():
        here = (*path, key)
        if key in KEYS:
            yield here, value
        yield from _keyed_places(value, here)


__all__ = ["ELICENCE_FETCHED", "Saved", "save_step"]
