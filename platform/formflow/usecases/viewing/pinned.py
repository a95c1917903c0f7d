"""The versions one's own application was started under, as its applicant may read them.

The pinned form, the materials catalogue without the packs' `source`
citations and configurators' notes (`citizen_catalogue`), and the process as
a citizen reads it (`process_summary`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from formflow.applications.materials import effective_categories
from formflow.db.models import Account
from formflow.packs.versions import content_hash, load_pinned
from formflow.text.catalogue import _
from formflow.usecases.viewing.citizen import citizen_app
from formflow.workflow.process import process


def citizen_catalogue(content: Mapping[str, Any]) -> dict[str, Any]:
    """A materials catalogue as a citizen may read it: no `source` citations, no configurators' notes.

    A kind's `source` names the e-licence it is fetched from (kept); a category's is a citation (dropped).
    """
    kinds = {k: {key: v for key, v in (spec or {}).items() if key != "note"}
             for k, spec in (content.get("kinds") or {}).items()}
    categories = {k: {key: v for key, v in (spec or {}).items() if key not in ("note", "source")}
                  for k, spec in effective_categories(content).items()}
    return {"upload_path": content.get("upload_path"), "kinds": kinds, "categories": categories}


def process_summary(workflow: Mapping[str, Any], version: str) -> dict[str, Any]:
    """The workflow as a citizen reads it: title, committed time limit, stages in order, citizen actions."""
    commitment = workflow.get("commitment")
    return {
        "version": version, "title": str(workflow.get("title") or workflow.get("id") or ""),
        "commitment": {"title": str(commitment.get("title") or _("Committed time limit")),
                       "days": int(commitment["days"]), "unit": str(commitment.get("unit") or "working")}
        if commitment else None,
        "stages": process(dict(workflow)),
        "citizen_actions": [{"id": k, "title": str((v or {}).get("title") or k)}
                            for k, v in (workflow.get("citizen") or {}).items()],
    }


@dataclass(frozen=True)
class PinnedDocuments:
    """The versions an application was started under, as its applicant may read them."""

    form: dict[str, Any]
    form_version: str
    materials: dict[str, Any]  # `citizen_catalogue` of the pinned materials
    materials_version: str
    workflow: dict[str, Any]  # `process_summary` of the pinned workflow


def pinned_documents(services: Any, db: Session, actor: Account | None, app_id: int) -> PinnedDocuments:
    """The pinned form, materials catalogue and process of one's own application."""
    app = citizen_app(db, actor, app_id)
    pinned = load_pinned(db, app.versions)
    return PinnedDocuments(
        form=pinned.documents["form"], form_version=app.versions["form"],
        materials=citizen_catalogue(pinned.materials or {}), materials_version=content_hash(pinned.materials or {}),
        workflow=process_summary(pinned.workflow, app.versions["workflow"]),
    )
