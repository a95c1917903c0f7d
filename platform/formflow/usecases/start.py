"""Starting an application: consent, region, identity, the draft — the same on every channel.

`start_application` is the one way a draft is opened, by the citizen (portal,
API) or by a service-hall window clerk for a citizen who is present
(`start_at_window`). It checks the consent to the current privacy agreement,
narrows the chosen region down to the level that owns the workflow's first
stage (refusing a region where no office can accept the application, or one
above that level that cannot be narrowed unambiguously), binds the applicant's
name and ID number to the verified identity, and prefills the e-licences
(`usecases.elicences`, recorded).

The region page's helpers live here too: the selectable regions, their
children, and what a chosen region means (`region_choice`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.applications import drafts as apps
from formflow.auth.roles import CITIZEN, WINDOW_CLERK
from formflow.db.models import REGION_KINDS, Account, Application, Consent, Office, RoleAssignment
from formflow.forms.formats import explain_cn_id_card
from formflow.packs.inherit import children_of, lineage
from formflow.packs.regions import is_open
from formflow.packs.versions import load_pinned, pin
from formflow.text.catalogue import _
from formflow.text.errors import FieldProblem, Forbidden, Refusal
from formflow.usecases import elicences
from formflow.usecases.identity import bind_identity


class StartRefused(Refusal):
    """An application cannot be started as asked (region, channel, consent, identity, the form)."""

    code = "start_refused"
    status = 422


# --------------------------------------------------------------------------- the matter and its channels


def matter_of(services: Any, pack_id: str, matter_id: str) -> tuple[Any, Any]:
    """The pack and matter, or a refusal naming the field."""
    pack = services.packs.packs.get(pack_id)
    if pack is None:
        message = _("No such matter")
        raise StartRefused(message, code="matter_not_found", fields=[FieldProblem("/pack", message)])
    if matter_id not in pack.matters:
        message = _("No such matter")
        raise StartRefused(message, code="matter_not_found", fields=[FieldProblem("/matter", message)])
    return pack, pack.matters[matter_id]


def channels(pack: Any, *, assisted: bool) -> list[dict[str, Any]]:
    """The pack's channels a citizen chooses online (`assisted=False`) or a window clerk uses (`True`)."""
    return [c for c in pack.manifest.content.get("channels") or [] if bool(c.get("assisted")) == assisted]


def channel_for(pack: Any, wanted: str | None, *, assisted: bool) -> str | None:
    """`wanted` if it is one of those channels, else refused; none wanted: the last of them (the default)."""
    pool = channels(pack, assisted=assisted)
    if wanted not in (None, ""):
        if wanted not in {str(c.get("id")) for c in pool}:
            message = _("Not a channel that can be chosen here") if assisted else _(
                "Not a channel that can be chosen online")
            raise StartRefused(message, code="channel_invalid", fields=[FieldProblem("/channel", message)])
        return wanted
    return (pool or pack.manifest.content.get("channels") or [{}])[-1].get("id")


# --------------------------------------------------------------------------- consent


def privacy_version(pack: Any) -> str:
    return str((pack.manifest.content.get("privacy") or {}).get("version", ""))


def latest_consent(db: Session, account_id: int, pack_id: str, matter_id: str, version: str) -> Consent | None:
    return db.scalar(select(Consent).where(
        Consent.account_id == account_id, Consent.pack == pack_id, Consent.matter == matter_id,
        Consent.agreement_version == version).order_by(Consent.id.desc()).limit(1))


def consent_state(services: Any, db: Session, account_id: int, pack_id: str, matter_id: str) -> Consent | None:
    """The account's latest decision on the matter's current privacy agreement (None: not asked yet)."""
    pack, _matter = matter_of(services, pack_id, matter_id)
    return latest_consent(db, account_id, pack_id, matter_id, privacy_version(pack))


def has_consented(services: Any, db: Session, account_id: int, pack_id: str, matter_id: str) -> bool:
    row = consent_state(services, db, account_id, pack_id, matter_id)
    return bool(row and row.accepted)


def record_consent(services: Any, db: Session, account: Account, pack_id: str, matter_id: str, accepted: bool, *,
                   agreement_version: str | None = None) -> Consent:
    """Record the decision on the current agreement (an outdated `agreement_version` is refused)."""
    pack, _matter = matter_of(services, pack_id, matter_id)
    version = privacy_version(pack)
    if agreement_version not in (None, version):
        raise StartRefused(_("The privacy agreement has been updated to version %(version)s; please read it and "
                             "consent again", version=version), code="agreement_outdated", status=409)
    return apps.record_consent(db, db.get(Account, account.id) or account, pack_id, matter_id, version,
                               bool(accepted))


# --------------------------------------------------------------------------- regions


def start_level(workflow: Mapping[str, Any] | None) -> str | None:
    """The office level that acts first on an application (its region must be chosen that far down)."""
    workflow = workflow or {}
    stage = (workflow.get("stages") or {}).get(workflow.get("start")) or {}
    return (stage.get("owner") or {}).get("level")


def above(level: str, needed: str | None) -> bool:
    """Is `level` higher up the region tree than `needed`?"""
    if needed not in REGION_KINDS or level not in REGION_KINDS:
        return False
    return REGION_KINDS.index(level) < REGION_KINDS.index(needed)


def selectable_regions(db: Session, pack_id: str, services: Any = None) -> list[Office]:
    """The regions a citizen picks from first (the pack's `selectable` offices).

    A pack that extends another (packs.inherit) has no offices of its own: its regions are
    the parent tree's selectable offices at and under its `region_code`.
    """
    root = region_root(services, db, pack_id)
    if root is None:
        return apps.selectable_offices(db, pack_id)
    return list(db.scalars(select(Office).where(Office.pack.in_(pack_lineage(services, pack_id)),
                                                Office.selectable.is_(True), Office.path.startswith(root.path))
                           .order_by(Office.path)))


def pack_lineage(services: Any, pack_id: str) -> list[str]:
    """The packs whose offices serve `pack_id`: itself, then the packs it extends."""
    pack = services.packs.packs.get(pack_id) if services is not None else None
    return [pack_id, *(lineage(pack.manifest.content) if pack is not None else [])]


def region_root(services: Any, db: Session, pack_id: str) -> Office | None:
    """The region office of a pack that extends another (its `region_code` in the parent's tree)."""
    packs = pack_lineage(services, pack_id)
    if len(packs) == 1:
        return None
    code = str(services.packs.packs[pack_id].manifest.content.get("region_code") or "")
    return db.scalar(select(Office).where(Office.region_code == code, Office.pack.in_(packs[1:]),
                                          Office.kind.in_(REGION_KINDS)).order_by(Office.path).limit(1))


def resolve_pack(services: Any, db: Session, pack_id: str, matter_id: str, office: Office) -> str:
    """The pack an application filed at `office` belongs to: the deepest pack extending `pack_id` whose
    region holds the office and which has the matter, else `pack_id` (a Nanchang citizen gets Nanchang's)."""
    for child in children_of(services.packs, pack_id):
        root = region_root(services, db, child.id) if matter_id in child.matters else None
        if root is not None and (office.path or "").startswith(root.path):
            return str(child.id)
    return pack_id


def within(office: Office, selectable: list[Office]) -> bool:
    """A selectable region, or a region under one (reached by narrowing down)."""
    return office.kind in REGION_KINDS and any(office.path.startswith(o.path) for o in selectable)


def region_children(db: Session, office: Office) -> list[Office]:
    return list(db.scalars(select(Office).where(Office.parent_id == office.id, Office.kind.in_(REGION_KINDS))
                           .order_by(Office.id)))


def open_children(services: Any, db: Session, office: Office) -> list[Office]:
    """The region's children where online acceptance is open (offices.yaml `online`)."""
    return [o for o in region_children(db, office) if is_open(services.packs, o.pack, o.id)]


def parent_names(db: Session, offices: list[Office]) -> dict[str, str]:
    """Office id → its parent's name (shown before the region's own name)."""
    ids = {o.parent_id for o in offices if o.parent_id}
    names = {o.id: o.name for o in db.scalars(select(Office).where(Office.id.in_(ids)))} if ids else {}
    return {o.id: names.get(o.parent_id or "", "") for o in offices}


def _needed(services: Any, pack_id: str, matter_id: str) -> str | None:
    _pack, matter = matter_of(services, pack_id, matter_id)
    return start_level(matter.workflow.content if matter.workflow else {})


@dataclass
class RegionChoice:
    """What the region page shows for a chosen (or not yet chosen) region."""

    offices: list[Office]  # the selectable regions
    office: Office | None  # the valid chosen region, if any
    narrower: list[Office] | None  # above the first owner's level: its children (empty: none accepts)
    parents: dict[str, str] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)  # offered regions where online acceptance is not open yet


def region_choice(services: Any, db: Session, pack_id: str, matter_id: str, office_id: str | None) -> RegionChoice:
    needed = _needed(services, pack_id, matter_id)
    offices = selectable_regions(db, pack_id, services)
    office = db.get(Office, office_id) if office_id else None
    if office is not None and (office.pack not in pack_lineage(services, pack_id) or not within(office, offices)):
        office = None
    narrower = open_children(services, db, office) if office is not None and above(office.level, needed) else None
    if office is not None and not is_open(services.packs, pack_id, office.id):
        narrower = []  # online acceptance is not open there yet: the page says so
    closed = {o.id for o in offices if not is_open(services.packs, pack_id, o.id)}
    return RegionChoice(offices, office, narrower, parent_names(db, [*offices, *(narrower or [])]), closed)


def owning_regions(services: Any, db: Session, pack_id: str, matter_id: str) -> list[Office]:
    """Every region at (or below) the level that owns the first stage, under the selectable ones."""
    needed = _needed(services, pack_id, matter_id)
    out: dict[str, Office] = {}
    todo = list(selectable_regions(db, pack_id, services))
    while todo:
        office = todo.pop(0)
        if not is_open(services.packs, pack_id, office.id):
            continue
        if above(office.level, needed):
            todo.extend(open_children(services, db, office))
        else:
            out.setdefault(office.id, office)
    return sorted(out.values(), key=lambda o: o.path)


def narrow_region(services: Any, db: Session, pack_id: str, matter_id: str, office_id: str | None) -> Office:
    """The region the application is filed at: `office_id`, narrowed down to the first stage's level.

    Refused: an office that is not a region of the pack; a region with no office at
    that level under it; a region above it with several (the caller must ask which).
    """
    choice = region_choice(services, db, pack_id, matter_id, office_id)
    office = choice.office
    if office is None:
        message = _("Please choose a valid application region")
        raise StartRefused(message, code="region_invalid", fields=[FieldProblem("/office_id", message)])
    needed = _needed(services, pack_id, matter_id)
    if not is_open(services.packs, pack_id, office.id):
        message = _("%(region)s does not accept applications online yet; please choose another region, or "
                    "apply at the local government service hall", region=office.name)
        raise StartRefused(message, code="region_unavailable", fields=[FieldProblem("/office_id", message)])
    while above(office.level, needed):
        children = open_children(services, db, office)
        if not children:
            message = _("%(region)s does not accept applications online yet; please choose another region, or "
                        "apply at the local government service hall", region=office.name)
            raise StartRefused(message, code="region_unavailable", fields=[FieldProblem("/office_id", message)])
        if len(children) > 1:
            message = _("%(region)s has several regions that accept applications; please choose the next level "
                        "down", region=office.name)
            raise StartRefused(message, code="region_too_broad", fields=[FieldProblem("/office_id", message)],
                               choices=[{"id": o.id, "name": o.name} for o in children])
        office = children[0]
    return office


# --------------------------------------------------------------------------- who starts


def assisting_packs(db: Session, account: Account) -> set[str]:
    """The packs of the offices where `account` is a window clerk."""
    rows = db.scalars(select(RoleAssignment).where(RoleAssignment.account_id == account.id,
                                                   RoleAssignment.role == WINDOW_CLERK))
    out = set()
    for row in rows:
        office = db.get(Office, row.office_id) if row.office_id else None
        pack = office.pack if office is not None else row.pack
        if pack:
            out.add(pack)
    return out


def account_identity(services: Any, account: Account) -> dict[str, str] | None:
    """The identity bound to `account` (the API's verified identity), or None."""
    if not account.id_number_enc:
        return None
    return {"name": account.display_name or "", "id_number": services.keys.open(account.id_number_enc)}


def open_draft(db: Session, applicant_id: int, pack_id: str, matter_id: str) -> Application | None:
    """The applicant's draft of this matter not yet submitted (resumed instead of a new one)."""
    return apps.find_draft(db, applicant_id, pack_id, matter_id)


def _check_identity(services: Any, applicant: Account, identity: Mapping[str, str] | None) -> dict[str, str]:
    number = "".join(str((identity or {}).get("id_number") or "").split()).upper()
    if not number:
        raise StartRefused(_("Please verify your identity first"), code="identity_required", status=403)
    if not applicant.id_number_hash or applicant.id_number_hash != services.keys.lookup(number):
        raise StartRefused(_("The verified identity does not match the applicant's account"),
                           code="identity_mismatch", status=403)
    return {"name": str((identity or {}).get("name") or applicant.display_name or ""), "id_number": number}


def start_application(services: Any, db: Session, actor: Account, pack_id: str, matter_id: str,
                      region_office_id: str | None, *, channel: str | None, identity: Mapping[str, str] | None,
                      assisted_by: Account | None = None) -> Application:
    """Open the applicant's draft (or return the one not yet submitted) — the one start of every channel.

    `actor` is the applicant; `assisted_by` the window clerk acting for them (their
    office must belong to the pack). `identity` is the verified name and ID number
    (it must be the applicant account's). `channel`: wanted channel id, or None for
    the default. Changes nothing when refused.
    """
    pack, matter = matter_of(services, pack_id, matter_id)
    applicant = db.get_one(Account, actor.id)
    clerk = db.get(Account, assisted_by.id) if assisted_by is not None else None
    if clerk is not None and not set(pack_lineage(services, pack_id)) & assisting_packs(db, clerk):
        raise Forbidden(_("This matter is not handled by your office"), code="not_your_pack")
    if clerk is None and not matter.citizen_starts:
        raise StartRefused(_("This matter cannot be applied for here"), code="matter_not_open")
    verified = _check_identity(services, applicant, identity)
    if not has_consented(services, db, applicant.id, pack_id, matter_id):
        raise StartRefused(_("Please read and agree to the service authorisation privacy agreement first"),
                           code="consent_required", status=403)
    existing = open_draft(db, applicant.id, pack_id, matter_id)
    if existing is not None:
        if clerk is not None and existing.assisted_by_id != clerk.id:
            raise StartRefused(_("The applicant already has an application not yet submitted; the applicant may "
                                 "continue it or give it up before applying at the window"), code="draft_exists",
                               status=409)
        return existing
    office = narrow_region(services, db, pack_id, matter_id, region_office_id)
    resolved = resolve_pack(services, db, pack_id, matter_id, office)
    if resolved != pack_id:  # the region is under a pack extending this one: the application is that pack's
        pack, matter = matter_of(services, resolved, matter_id)
        existing = open_draft(db, applicant.id, resolved, matter_id)
        if existing is not None:
            return existing
        if not has_consented(services, db, applicant.id, resolved, matter_id):
            if privacy_version(pack) != privacy_version(services.packs.packs[pack_id]):
                raise StartRefused(_("Please read and agree to the service authorisation privacy agreement first"),
                                   code="consent_required", status=403)
            record_consent(services, db, applicant, resolved, matter_id, True)  # the same agreement, consented
        pack_id = resolved
    chosen = channel_for(pack, channel, assisted=clerk is not None)
    app = _new_draft(services, db, applicant, pack_id, matter_id, office, chosen, clerk)
    pinned = apps.pinned_of(db, app)
    app.data = bind_identity(pinned, dict(app.data), verified)
    db.flush()
    elicences.fetch_elicences(services, db, clerk or applicant, app, purpose=elicences.PREFILL)
    return app


def _new_draft(services: Any, db: Session, applicant: Account, pack_id: str, matter_id: str, office: Office,
               channel: str | None, clerk: Account | None) -> Application:
    """A draft pinned to the current pack versions, with its `draft_created` event."""
    versions = pin(db, services.packs, pack_id, matter_id)
    steps = apps.form_of(load_pinned(db, versions)).steps()
    app = Application(
        pack=pack_id, matter=matter_id, status="draft", applicant_id=applicant.id, channel=channel,
        assisted_by_id=clerk.id if clerk else None, office_id=office.id, office_path=office.path,
        versions=versions, data={s.id: {} for s in steps}, current_step=steps[0].id if steps else None, stages=[],
    )
    db.add(app)
    db.flush()
    actor = clerk or applicant
    apps._event(db, app, actor, "draft_created", role=WINDOW_CLERK if clerk else CITIZEN,
                note=_("Application region: %(region)s", region=office.name),
                details={"office": office.id, "channel": channel})
    db.flush()
    return app


# --------------------------------------------------------------------------- the service-hall window


def window_choices(services: Any, db: Session, clerk: Account) -> list[tuple[Any, Any]]:
    """(pack, matter) a window clerk may start: the matters of the packs of the clerk's offices."""
    mine = assisting_packs(db, clerk)
    return [(p, m) for p in services.packs.packs.values() if p.id in mine for m in p.matters.values()]


def window_citizen(services: Any, db: Session, name: str, id_number: str, mobile: str, pack_id: str) -> Account:
    """The citizen's account found by keyed ID hash, or created (no password: signs in by SMS or identity)."""
    keys = services.keys
    digest = keys.lookup(id_number)
    account = db.scalar(select(Account).where(Account.id_number_hash == digest))
    if account is not None:
        return account
    account = Account(username=f"c-{digest[:20]}", display_name=name, password_hash=None,
                      id_number_enc=keys.seal(id_number), id_number_hash=digest)
    if mobile:
        account.mobile_enc = keys.seal(mobile)
        account.mobile_hash = keys.lookup(mobile)
    account.roles = [RoleAssignment(role=CITIZEN, office_id=None, pack=pack_id)]
    db.add(account)
    db.flush()
    return account


def start_at_window(services: Any, db: Session, clerk: Account, *, pack_id: str, matter_id: str,
                    region_office_id: str | None, name: str, id_number: str, mobile: str, consented: bool,
                    channel: str | None) -> Application:
    """A window clerk starts an application for the citizen present (identity checked on the original card)."""
    name = (name or "").strip()[:50]
    id_number = "".join((id_number or "").split()).upper()[:18]
    mobile = (mobile or "").strip()[:11]
    problems = []
    if not name:
        problems.append(FieldProblem("/name", _("Please enter the applicant's name")))
    why = explain_cn_id_card(id_number)
    if why:
        problems.append(FieldProblem("/id_number", _("Resident ID number %(reason)s", reason=why)))
    pack = services.packs.packs.get(pack_id)
    if pack is None or matter_id not in pack.matters:
        problems.append(FieldProblem("/matter", _("Please choose the matter")))
    if not consented:
        problems.append(FieldProblem("/consent", _("Please confirm that the applicant has read and agreed to the "
                                                   "service authorisation privacy agreement")))
    if problems:
        raise StartRefused(_("; ").join(p.message for p in problems), code="window_form", status=400,
                           fields=problems)
    actor = db.get_one(Account, clerk.id)
    if not set(pack_lineage(services, pack_id)) & assisting_packs(db, actor):
        raise Forbidden(_("This matter is not handled by your office"), code="not_your_pack")
    narrow_region(services, db, pack_id, matter_id, region_office_id)  # refused before any account is made
    citizen = window_citizen(services, db, name, id_number, mobile, pack_id)
    record_consent(services, db, citizen, pack_id, matter_id, True)
    return start_application(services, db, citizen, pack_id, matter_id, region_office_id, channel=channel,
                             identity={"name": name, "id_number": id_number}, assisted_by=actor)


def window_started(services: Any, db: Session, clerk: Account, app_id: int) -> tuple[Application, list[Any]]:
    """An application the clerk started, with its e-licence data masked (the window's result)."""
    app = db.get(Application, app_id)
    if app is None or app.assisted_by_id != clerk.id:
        raise Refusal(_("No such application"), code="not_found", status=404)
    return app, elicences.masked_elicences(services, db, db.get_one(Account, clerk.id), app)


__all__ = [
    "RegionChoice", "StartRefused", "above", "account_identity", "assisting_packs", "channel_for", "channels",
    "consent_state", "has_consented", "latest_consent", "matter_of", "narrow_region", "open_children", "open_draft",
    "owning_regions", "pack_lineage", "parent_names", "privacy_version", "record_consent", "region_children",
    "region_choice", "region_root", "resolve_pack", "selectable_regions", "start_application", "start_at_window",
    "start_level", "window_choices", "window_citizen", "window_started", "within",
]
