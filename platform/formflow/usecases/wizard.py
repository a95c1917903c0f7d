"""One page of the wizard: the step's fields for the data on screen, its errors, the material checklist.

The same for the citizen and for the service-hall window clerk filling it for them, except
that e-licence copies (read-only fields fetched from the e-licence service) show ID and mobile
numbers in full only to the applicant: anyone else reads them masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from formflow.applications import drafts as apps
from formflow.applications import materials as materials_mod
from formflow.applications.signing import LETTER_DOCUMENT
from formflow.db.models import Account, Application
from formflow.forms.errors import FieldError
from formflow.forms.render import Node, StepView, attach_errors, get_path, split_path
from formflow.text import formatting as fmt
from formflow.text.catalogue import _
from formflow.text.errors import NotFound

#: Formats of the numbers an e-licence copy shows masked to anyone but the applicant.
MASKED_FORMATS = {"cn-id-card": fmt.mask_id, "cn-mobile": fmt.mask_mobile}


@dataclass
class StepPage:
    app: Application
    view: StepView
    steps: list[Any]
    index: int
    checklist: list[materials_mod.ChecklistItem]
    by_field: dict[str, materials_mod.ChecklistItem]
    provided: dict[str, bool]
    letter: bool  # the matter has a material signed on screen (the authorization letter)
    matter_title: str
    problems: list[str] = field(default_factory=list)

    @property
    def is_last(self) -> bool:
        return self.index == len(self.steps) - 1

    @property
    def prev_step(self) -> str | None:
        return self.steps[self.index - 1].id if self.index else None

    @property
    def next_step(self) -> str | None:
        return self.steps[self.index + 1].id if self.index + 1 < len(self.steps) else None


def hidden_uploads(pinned: Any, data: dict[str, Any], items: list[materials_mod.ChecklistItem]) -> set[str]:
    """Upload fields of material kinds not on this application's checklist (and empty): not shown."""
    upload_path = (pinned.materials or {}).get("upload_path")
    listed = {i.field for i in items}
    hide = set()
    if upload_path:
        for kind in (pinned.materials.get("kinds") or {}):
            dotted = f"{upload_path}.{kind}"
            if dotted not in listed and not get_path(data, split_path(dotted)):
                hide.add(dotted)
    return hide


def mask_copies(root: Node) -> None:
    """ID and mobile numbers of read-only e-licence copies, masked (what is shown, never what is stored)."""
    for node in root.walk():
        masker = MASKED_FORMATS.get(node.fmt or "")
        if node.readonly and masker is not None and isinstance(node.value, str) and node.value:
            node.value = masker(node.value)


def name_documents(node: Node, documents: list[Any]) -> None:
    """Give every signature field of the step the document it signs: `x-document`, else the letter.

    `node.document` becomes {document, title, query}: the document id of the matter's `documents`, the
    title shown (the field's own, else the document's), and the download's `document` query (None for
    the default letter, whose link stays as it was).
    """
    titles = {str(d.get("id")): str(d.get("title") or "") for d in documents if isinstance(d, dict)}
    stack = [node]
    while stack:
        current = stack.pop()
        stack.extend(current.children)
        if current.widget != "signature":
            continue
        own = current.document or {}
        doc_id = str(own.get("document") or LETTER_DOCUMENT)
        current.document = {"document": doc_id, "title": str(own.get("title") or titles.get(doc_id) or ""),
                            "query": doc_id if own.get("document") else None}


def step_page(services: Any, db: Session, actor: Account, app: Application, step_id: str, data: dict[str, Any],
              errors: list[FieldError], *, problems: list[str] | None = None) -> StepPage:
    """The wizard's step `step_id` of `app` for `data` (the stored draft or the answers on screen)."""
    if actor is None or not apps.may_view(app, actor):
        raise NotFound(_("The application does not exist or is not within your reach."))
    pinned = apps.pinned_of(db, app)
    form = apps.form_of(pinned)
    steps = form.steps()
    ids = [s.id for s in steps]
    if step_id not in ids:
        raise NotFound(_("The form has no such step"))
    items = apps.checklist(pinned, data, services.today())
    node, _hidden = form.step_node(step_id, data, hide=hidden_uploads(pinned, data, items))
    view = StepView(form.step(step_id), node, errors, attach_errors(node, errors))
    if actor.id != app.applicant_id:
        mask_copies(node)
    name_documents(node, (pinned.manifest.get("matter") or {}).get("documents") or [])
    kinds = (pinned.materials or {}).get("kinds") or {}
    return StepPage(
        app=app, view=view, steps=steps, index=ids.index(step_id), checklist=items,
        by_field={i.field: i for i in items}, provided={i.field: materials_mod.provided(i, data) for i in items},
        letter=any(k.get("signature") for k in kinds.values()),
        matter_title=str((pinned.manifest.get("matter") or {}).get("title", app.matter)), problems=problems or [],
    )


__all__ = ["MASKED_FORMATS", "StepPage", "hidden_uploads", "mask_copies", "step_page"]
