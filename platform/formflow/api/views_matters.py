"""Public matter resources (the guide, privacy agreement, channels, regions, form, materials, workflow) and
the citizen's consent to a matter's privacy agreement — before any application exists.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from formflow.api import common as c
from formflow.api import schemas as s
from formflow.api.errors import ApiError, load_body
from formflow.api.routing import route
from formflow.packs.versions import content_hash, form_bundle
from formflow.text.catalogue import lazy
from formflow.usecases import start as start_uc
from formflow.usecases import viewing
from formflow.web.context import services

#: Operation ids and endpoints stay `citizen_…` (as before this module was split off the citizen views).
API_AREA = "citizen"
PUBLIC = lazy("Matters (public)")
CITIZEN = lazy("Applicant")


# --------------------------------------------------------------------------- matters (public)


def _matter(pack_id: str, matter_id: str):
    pack = c.packs().packs.get(pack_id)
    if pack is None or matter_id not in pack.matters:
        raise ApiError(404)
    return pack, pack.matters[matter_id]


def _matter_row(pack, matter) -> dict[str, Any]:
    return {"pack": pack.id, "pack_name": pack.name, "matter": matter.id, "title": matter.title,
            "kind": str(matter.entry.get("kind") or "application"),
            "region_code": str(pack.manifest.content.get("region_code") or "") or None}


def workflow_summary(workflow: dict[str, Any], version: str) -> dict[str, Any]:
    return viewing.process_summary(workflow, version)


def _steps(bundle: dict[str, Any]) -> list[dict[str, str]]:
    from formflow.forms.render import FormSchema

    return [{"id": st.id, "title": str(st.title), "description": str(st.description or "")}
            for st in FormSchema(bundle).steps()]


def _bundle_view(bundle: dict[str, Any], version: str) -> dict[str, Any]:
    return s.FormBundleSchema().dump({"version": version, "uri": bundle["uri"], "form": bundle["form"],
                                      "common": bundle["common"], "steps": _steps(bundle)})


@route("/matters", "GET",
       summary=lazy("Matters that can be applied for"), tags=[PUBLIC], auth=False, responses={200: s.MatterListSchema})
def matters():
    rows = [_matter_row(p, m) for p in c.packs().packs.values() for m in p.matters.values()]
    return s.MatterListSchema().dump({"items": rows})


@route("/matters/<pack_id>/<matter_id>", "GET",
       summary=lazy("A matter: guide, privacy agreement, channels, documents, process summary"),
       tags=[PUBLIC], auth=False, responses={200: s.MatterDetailSchema})
def matter_detail(pack_id: str, matter_id: str):
    pack, matter = _matter(pack_id, matter_id)
    manifest = pack.manifest.content
    privacy = manifest.get("privacy")
    workflow = matter.workflow.content if matter.workflow else {}
    return s.MatterDetailSchema().dump({
        **_matter_row(pack, matter),
        "guide": str(matter.entry.get("guide") or ""), "fee": matter.entry.get("fee"),
        "privacy": {"version": str(privacy.get("version", "")), "title": str(privacy.get("title", "")),
                    "text": str(privacy.get("text", ""))} if privacy else None,
        "channels": [{"id": str(ch.get("id")), "title": str(ch.get("title") or ch.get("id")),
                      "assisted": bool(ch.get("assisted"))} for ch in manifest.get("channels") or []],
        "documents": [{"id": str(d.get("id")), "title": str(d.get("title") or d.get("id"))}
                      for d in matter.entry.get("documents") or []],
        "form_version": content_hash(form_bundle(c.packs(), matter)),
        "workflow": workflow_summary(workflow, content_hash(workflow)),
    })


@route("/matters/<pack_id>/<matter_id>/localities", "GET",
       summary=lazy("Regions an application can be made in"), tags=[PUBLIC], auth=False,
       responses={200: s.LocalityListSchema},
       description=lazy("The regions an application can land in: those at (or below) the level of the accepting "
                        "stage."))
def localities(pack_id: str, matter_id: str):
    """The OpenAPI description (in the catalogue) says what this operation requires and answers."""
    _matter(pack_id, matter_id)
    with c.sessions()() as db:
        offices = start_uc.owning_regions(services(), db, pack_id, matter_id)
        parents = start_uc.parent_names(db, offices)
        rows = [{"id": o.id, "name": o.name, "kind": o.kind, "parent_name": parents.get(o.id) or None,
                 "region_code": o.region_code} for o in offices]
    return s.LocalityListSchema().dump({"items": rows})


@route("/matters/<pack_id>/<matter_id>/form", "GET",
       summary=lazy("The application form (the current version's JSON Schema as written)"), tags=[PUBLIC],
       auth=False, responses={200: s.FormBundleSchema},
       description=lazy("A new draft pins this version; for an existing application use /applications/{id}/form for"
                        " its pinned version."))
def matter_form(pack_id: str, matter_id: str):
    """The OpenAPI description (in the catalogue) says what this operation requires and answers."""
    _pack, matter = _matter(pack_id, matter_id)
    bundle = form_bundle(c.packs(), matter)
    return _bundle_view(bundle, content_hash(bundle))


@route("/matters/<pack_id>/<matter_id>/materials", "GET",
       summary=lazy("Materials catalogue and each category's checklist (current version)"),
       tags=[PUBLIC], auth=False, responses={200: s.MaterialsCatalogueSchema})
def matter_materials(pack_id: str, matter_id: str):
    _pack, matter = _matter(pack_id, matter_id)
    content = (matter.materials.content if matter.materials else None) or {}
    return _materials_view(content)


def _materials_view(content: dict[str, Any]) -> dict[str, Any]:
    """The catalogue as a citizen may read it (`usecases.viewing.citizen_catalogue`: no citations, no notes)."""
    return s.MaterialsCatalogueSchema().dump({"version": content_hash(content),
                                              **viewing.citizen_catalogue(content)})


@route("/matters/<pack_id>/<matter_id>/workflow", "GET",
       summary=lazy("Approval process summary (current version)"), tags=[PUBLIC],
       auth=False, responses={200: s.WorkflowSummarySchema})
def matter_workflow(pack_id: str, matter_id: str):
    _pack, matter = _matter(pack_id, matter_id)
    workflow = matter.workflow.content if matter.workflow else {}
    return s.WorkflowSummarySchema().dump(workflow_summary(workflow, content_hash(workflow)))


# --------------------------------------------------------------------------- consent


def _privacy_version(pack) -> str:
    return start_uc.privacy_version(pack)


def _latest_consent(db: Session, account_id: int, pack_id: str, matter_id: str, version: str):
    return start_uc.latest_consent(db, account_id, pack_id, matter_id, version)


@route("/matters/<pack_id>/<matter_id>/consent", "GET",
       summary=lazy("Whether I have consented to the current privacy agreement"), tags=[CITIZEN],
       responses={200: s.ConsentSchema})
def consent_state(pack_id: str, matter_id: str):
    account = c.current_account()
    pack, _matter_doc = _matter(pack_id, matter_id)
    with c.sessions()() as db:
        row = start_uc.consent_state(services(), db, account.id, pack_id, matter_id)
        return s.ConsentSchema().dump({"pack": pack_id, "matter": matter_id,
                                       "agreement_version": _privacy_version(pack),
                                       "accepted": bool(row and row.accepted), "at": row.at if row else None})


@route("/matters/<pack_id>/<matter_id>/consent", "POST",
       summary=lazy("Accept or decline the service authorisation privacy agreement"), tags=[CITIZEN],
       body=s.ConsentRequestSchema, responses={201: s.ConsentSchema}, errors=(409,),
       description=lazy("Records the consent as the portal does (agreement version and time); the current version "
                        "must be accepted before a draft is created."))
def consent(pack_id: str, matter_id: str):
    """The OpenAPI description (in the catalogue) says what this operation requires and answers."""
    account = c.current_account()
    _matter(pack_id, matter_id)
    body = load_body(s.ConsentRequestSchema())
    with c.sessions().begin() as db:
        row = start_uc.record_consent(services(), db, account, pack_id, matter_id, body["accepted"],
                                      agreement_version=body.get("agreement_version"))
        out = {"pack": pack_id, "matter": matter_id, "agreement_version": row.agreement_version,
               "accepted": row.accepted, "at": row.at}
    return s.ConsentSchema().dump(out), 201
