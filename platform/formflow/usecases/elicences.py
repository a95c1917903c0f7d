"""E-licences (electronic licences): the one way any channel fetches them into an application, and shows them masked.

Who may be looked up is decided here, not by the channel: only the application's
applicant (by the identity bound to their account) and the household members the
application lists; only by the applicant themself or the window clerk assisting
them, for a matter of a pack the clerk's office belongs to; always with a purpose.
Every fetch is recorded in the access log (`personal.access_log`) in the caller's
transaction, with the application's change.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from formflow.applications import drafts as apps
from formflow.db.models import Account, Application
from formflow.forms.render import Node, get_path, set_path
from formflow.personal import access_log
from formflow.text.catalogue import _, lazy
from formflow.text.errors import Forbidden, Refusal
from formflow.text.formatting import shown

#: Why an e-licence is fetched (recorded with every fetch).
PREFILL = "prefill"  # at the start of an application
REFRESH = "refresh"  # "fetch again" on a step
PURPOSES = {PREFILL: lazy("Prefill at the start of the application"), REFRESH: lazy("Fetch again on request")}


class ElicenceRefused(Forbidden):
    code = "elicence_forbidden"


def _refuse_actor() -> ElicenceRefused:
    return ElicenceRefused(_("You may not fetch e-licences for this application"))


def may_fetch(db: Session, actor: Account, app: Application) -> bool:
    """The applicant themself, or the window clerk assisting them at an office of the application's pack."""
    if actor.id == app.applicant_id:
        return True
    if app.assisted_by_id is None or actor.id != app.assisted_by_id:
        return False
    from formflow.usecases.start import assisting_packs
    from formflow.workflow.access import serving_packs

    return bool(set(serving_packs(db, app)) & assisting_packs(db, actor))  # offices a child pack shares count


def applicant_id_number(services: Any, db: Session, app: Application) -> str | None:
    """The ID number bound to the applicant's account (verified identity), or None."""
    applicant = db.get(Account, app.applicant_id)
    if applicant is None or not applicant.id_number_enc:
        return None
    return services.keys.open(applicant.id_number_enc)


def _normal(number: Any) -> str:
    return "".join(str(number or "").split()).upper()


def _person_of(data: dict[str, Any], node: Node, applicant: str) -> str:
    """Whose licence fills `node`: a member's (inside a list item with its own ID number), else the applicant's."""
    items = [i for i, part in enumerate(node.path) if isinstance(part, int)]
    if items:
        item = get_path(data, node.path[:items[-1] + 1])
        return _normal(item.get("id_number")) if isinstance(item, dict) else ""
    return applicant


def fetch_elicences(services: Any, db: Session, actor: Account, app: Application, *, purpose: str,
                    only: str | None = None, data: dict[str, Any] | None = None) -> list[str]:
    """Fill the application's `x-source` fields (or only the one at dotted `only`) from the e-licence provider.

    `data`: fill this dict (the posted draft about to be saved) instead of the stored
    data, which is then left alone. Returns the problems to show (service unavailable,
    no such licence). Refuses an actor who may not look the applicant up, and a fetch
    without a known purpose.
    """
    from formflow.integrations.elicence import ElicenceUnavailable
    from formflow.usecases.elicence_provenance import record_prefill

    if purpose not in PURPOSES:
        raise Refusal(_("Say why the e-licence is fetched"), code="elicence_purpose")
    if not may_fetch(db, actor, app):
        raise _refuse_actor()
    applicant = applicant_id_number(services, db, app)
    if not applicant:
        raise Refusal(_("Please verify your identity first"), code="identity_required", status=403)
    applicant = _normal(applicant)
    pinned = apps.pinned_of(db, app)
    form = apps.form_of(pinned)
    target = data if data is not None else copy.deepcopy(app.data or {})
    listed = {_normal(number) for _name, number in apps.household(pinned, target)}
    provider = services.elicence
    problems: list[str] = []
    cache: dict[tuple[str, str], Any] = {}
    for node in form.fields(target):
        if not node.source or (only and node.name != only):
            continue
        person = _person_of(target, node, applicant)
        if person != applicant and person not in listed:
            continue  # nobody's licence but the applicant's and the listed household's
        key = (node.source, person)
        if key not in cache:
            access_log.record_elicence_fetch(db, actor.id, app.id, node.source, purpose)
            try:
                cache[key] = provider.fetch(node.source, person)
            except ElicenceUnavailable as exc:
                problems.append(exc.message)
                cache[key] = None
                continue
            if cache[key] is None:
                problems.append(_("No %(title)s e-licence was found for you; please upload it or check it at the "
                                  "window", title=node.title))
        record = cache[key]
        if record is None:
            continue
        value = apps.elicence_values(form, target, node, record, person)
        if value not in (None, {}, ""):
            set_path(target, node.path, value)
            record_prefill(services, db, actor.id, app.id, node, value, services.settings.elicence_provider)
    if data is None:
        app.data = target
        db.flush()
    return sorted(set(problems))


# --------------------------------------------------------------------------- what a clerk sees


@dataclass(frozen=True)
class ElicenceView:
    """One e-licence of an application as shown outside the desk: its title and masked rows."""

    source: str
    title: str
    rows: list[tuple[str, str]]


def masked_elicences(services: Any, db: Session, actor: Account, app: Application) -> list[ElicenceView]:
    """The e-licence data in the application, ID and mobile numbers masked (the window's result)."""
    if not may_fetch(db, actor, app):
        raise _refuse_actor()
    pinned = apps.pinned_of(db, app)
    out = []
    for node in apps.form_of(pinned).fields(app.data or {}):
        if not node.source or node.value in (None, "", [], {}):
            continue
        rows = []
        for leaf in node.walk():
            if leaf.kind != "field" or leaf.value in (None, "", [], {}):
                continue
            label = leaf.title if leaf is node else " · ".join(
                t for t in _titles(node, leaf) if t)
            rows.append((label, shown(leaf.value, {"format": leaf.fmt} if leaf.fmt else None)))
        out.append(ElicenceView(node.source, node.title, rows))
    return out


def _titles(top: Node, leaf: Node) -> list[str]:
    """Titles from below `top` down to `leaf` (list items by their number)."""
    out: list[str] = []

    def visit(node: Node, trail: list[str]) -> bool:
        if node is leaf:
            out.extend(trail)
            return True
        for child in node.children:
            label = str(child.path[-1] + 1) if isinstance(child.path[-1], int) else child.title
            if visit(child, [*trail, label]):
                return True
        return False

    visit(top, [])
    return out


__all__ = ["PREFILL", "PURPOSES", "REFRESH", "ElicenceRefused", "ElicenceView", "applicant_id_number",
           "fetch_elicences", "masked_elicences", "may_fetch"]
