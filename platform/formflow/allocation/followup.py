"""Follow-up management: check campaigns and the household's own change report.

A campaign creates, for every benefiting household of the chosen modes, one
application of the mode's follow-up matter (allocation.yaml `modes.<m>.follow_up`),
pinned and entered into that matter's workflow, in one transaction with the
campaign. The workflow (configured in the pack) decides the outcome and
issues its notices; `register.sync` then applies the outcome to the household
(`follow_up.outcomes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.allocation.config import BENEFITING, Allocation
from formflow.allocation.register import AllocationError, record, recorded
from formflow.db.models import Account, Application, CheckCampaign, Household, HouseholdCheck
from formflow.packs.versions import pin
from formflow.text.catalogue import _, lazy
from formflow.text.errors import FieldProblem

#: Campaign kinds and their titles (msgids: stored titles use the authority's language).
KIND_MSGIDS = {"periodic": "Periodic check", "ad_hoc": "Ad hoc check"}
CAMPAIGN_KINDS = {"periodic": lazy("Periodic check"), "ad_hoc": lazy("Ad hoc check")}
#: Where a follow-up form holds the household's archive number and what started the check.
ARCHIVE_FIELD = "household.archive_no"
TRIGGER_FIELD = "household.trigger"


def start_campaign(session: Session, packset: Any, alloc: Allocation, *, title: str, kind: str,
                   modes: Sequence[str], actor: Account, today: date, calendar: Any,
                   note: str | None = None, paths: list[str] | None = None) -> CheckCampaign:
    from formflow.workflow.engine import enter_workflow

    if kind not in CAMPAIGN_KINDS:
        raise AllocationError(_("Please choose a periodic or an ad hoc check"), code="campaign_kind",
                              fields=[FieldProblem("/kind", _("Please choose a periodic or an ad hoc check"))])
    chosen = [m for m in modes if (alloc.modes.get(m) or {}).get("follow_up")]
    if not chosen:
        raise AllocationError(_("Please choose the support modes to check"), code="campaign_modes",
                              fields=[FieldProblem("/modes", _("Please choose the support modes to check"))])
    households = [h for h in session.scalars(
        select(Household).where(Household.pack == alloc.pack, Household.matter == alloc.matter,
                                Household.mode.in_(chosen), Household.status.in_(BENEFITING))
        .order_by(Household.code)
    ) if paths is None or any((h.office_path or "").startswith(p) for p in paths)]
    if not households:
        raise AllocationError(_("No household of the chosen support modes is receiving support"),
                              code="campaign_empty")
    campaign = CheckCampaign(pack=alloc.pack, matter=alloc.matter, title=title.strip() or recorded(KIND_MSGIDS[kind]),
                             kind=kind, note=note, modes=chosen, created_by=actor.id)
    session.add(campaign)
    session.flush()
    versions: dict[str, dict[str, Any]] = {}
    for h in households:
        matter = alloc.modes[h.mode]["follow_up"]
        if matter not in versions:
            versions[matter] = pin(session, packset, alloc.pack, matter)
        app = Application(
            pack=alloc.pack, matter=matter, status="draft", applicant_id=h.applicant_id, channel="campaign",
            office_id=h.office_id, office_path=h.office_path, versions=versions[matter], stages=[],
            data={"household": {"archive_no": h.code, "trigger": "campaign"},
                  "changes": {"summary": campaign.title}},
        )
        session.add(app)
        session.flush()
        enter_workflow(session, app, actor, calendar=calendar, today=today)
        app.number = f"{today:%Y%m%d}{app.id:06d}"
        session.add(HouseholdCheck(household_id=h.id, application_id=app.id, campaign_id=campaign.id,
                                   trigger="campaign"))
        record(session, h, "check_started", actor, note=recorded("%(title)s (%(kind)s)", title=campaign.title,
                                                                   kind=recorded(KIND_MSGIDS[kind])),
               details={"campaign": campaign.id, "application": app.id})
    return campaign


def start_report(session: Session, packset: Any, alloc: Allocation, household: Household,
                 actor: Account) -> Application:
    """The household's change report: a draft of its mode's follow-up matter, linked to the household."""
    from formflow.applications import drafts as apps

    matter = (alloc.modes.get(household.mode) or {}).get("follow_up")
    if not matter:
        raise AllocationError(_("No change-report matter is configured for this support mode"),
                              code="no_report_matter")
    if actor.id != household.applicant_id:
        raise AllocationError(_("Only the household's applicant may report a change"), code="not_applicant",
                              status=403)
    if household.status not in BENEFITING and household.status != "waiting":
        raise AllocationError(_("This household no longer receives support"), code="not_supported")
    app = apps.start_draft(session, packset, applicant=actor, pack=household.pack, matter=matter,
                           office_id=household.office_id or "", channel="web",
                           prefill={ARCHIVE_FIELD: household.code, TRIGGER_FIELD: "report"})
    if session.scalar(select(HouseholdCheck.id).where(HouseholdCheck.application_id == app.id)) is None:
        session.add(HouseholdCheck(household_id=household.id, application_id=app.id, trigger="report"))
        session.flush()
    return app
