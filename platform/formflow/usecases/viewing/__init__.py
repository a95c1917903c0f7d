"""Viewing one application: the citizen's view and the staff view, every value already as a person reads it.

`citizen_view` (the applicant or the window clerk who assisted them) and
`staff_view` (a reviewer whose offices reach the application) return plain
dataclasses; the portal, the desk and both API views only render them.

Decided here, once for every channel:

- reach: anyone else gets `NotFound` (404, the same message everywhere);
- every value goes through `formatting` with its schema node of the PINNED
  form (enum titles, yes/no, money, masked ID and mobile numbers); a drawn
  signature is an image, never its `data:` text; the packs' `source`
  citations and configurators' notes never reach a citizen;
- times are the deployment zone's (`when`: local time, `iso`: for the API);
- the materials are this application's checklist (its category and
  conditions), each with its state;
- the access log: e-licence data shown to staff (the household register among
  them) is recorded as `elicence:<source>`, the full ID number as
  `full_id_number`, in their own transaction before anything is shown, the
  same for the desk and the API.

The modules: `summaries` (an application's head, its notices and files),
`values` (the form data as a person reads it), `assessment` (checklist and
pre-check), `citizen` and `staff` (the two views, with reach and access
records), `pinned` (the pinned documents of one's own application).
"""

from __future__ import annotations

from formflow.applications.status import RESULT_TITLES, STATUS_TITLES
from formflow.usecases.viewing.assessment import ChecklistRow, ConditionView, PrecheckView, checklist, precheck_view
from formflow.usecases.viewing.citizen import CitizenView, CorrectionItem, CorrectionView, citizen_view, my_applications
from formflow.usecases.viewing.pinned import PinnedDocuments, citizen_catalogue, pinned_documents, process_summary
from formflow.usecases.viewing.staff import ElicenceRow, StaffView, owned_stages, staff_view
from formflow.usecases.viewing.summaries import (
    FileView,
    NoticeView,
    OfficeRef,
    StageRef,
    Summary,
    files,
    matter_title,
    not_found,
    notices,
    result_title,
    spec_of,
    summary,
)
from formflow.usecases.viewing.values import (
    PREVIEW_IMAGES,
    PREVIEW_PDF,
    DataStep,
    FileRef,
    Value,
    data_steps,
    hidden_materials,
    masked_data,
    node_schema,
    schema_at,
    value_of,
)

__all__ = [
    "ChecklistRow", "CitizenView", "ConditionView", "CorrectionItem", "CorrectionView", "DataStep", "ElicenceRow",
    "FileRef", "FileView", "NoticeView", "OfficeRef", "PREVIEW_IMAGES", "PREVIEW_PDF", "PinnedDocuments",
    "PrecheckView", "RESULT_TITLES", "STATUS_TITLES", "StaffView", "StageRef", "Summary", "Value", "checklist",
    "citizen_catalogue", "citizen_view", "data_steps", "files", "hidden_materials", "masked_data", "matter_title",
    "my_applications", "node_schema", "not_found", "notices", "owned_stages", "pinned_documents", "precheck_view",
    "process_summary", "result_title", "schema_at", "spec_of", "staff_view", "summary", "value_of"
]
