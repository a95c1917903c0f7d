"""Valid Meizhou drafts, built from the pack the way a citizen fills the wizard.

The step values are those of the API journey test (tests/api/test_api_journeys.py):
a married low-income applicant with the spouse as co-applicant. Every draft gets
its own applicant and spouse ID numbers (valid GB 11643 check digits, unique per
index), so the duplicate-household check passes for each of them. The material
uploads the pinned checklist requires are file references (the service checks the
reference, the file bytes are the upload path's business and not timed here).
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from formflow.applications import drafts as apps
from formflow.forms.formats import id_card_check_digit

PACK, MATTER = "meizhou-meijiang", "public-rental-housing"
#: 金山街道演示社区一: the demo reviewers (community, street) have jurisdiction there.
HOME_OFFICE = "441402001001"

STEPS: dict[str, Any] = {
    "category": {"applicant_category": "low-income", "support_mode": "physical_allocation"},
    "housing": {"resides_in_urban_area": True, "owns_property": False, "owned_housing_area_total": 0,
                "property_deals_within_5_years": False, "other_housing_benefits": False},
    "assets": {"deposits": 1000, "securities": 0},
}
APPLICANT = {"mobile": "13807530001", "marital_status": "married", "hukou_region": "meijiang",
             "monthly_income": 1200}
SPOUSE = {"relation": "spouse", "monthly_income": 800}
FILE_SHA = "b" * 64
FILE_REF = {"sha256": FILE_SHA, "name": "scan.png", "media_type": "image/png", "size": 2048}


def id_number(region: str, born: date, seq: int, female: bool) -> str:
    """A well-formed 18-digit number: region, birth date, sequence (odd male, even female), check digit."""
    order = (seq % 500) * 2 + (0 if female else 1)
    first17 = f"{region}{born:%Y%m%d}{order:03d}"
    return first17 + id_card_check_digit(first17)


def person_numbers(index: int) -> tuple[str, str]:
    """Applicant's and spouse's ID numbers, unique for each index (up to 500 × 10,000 days)."""
    day = index // 500
    applicant = id_number("441402", date(1960, 1, 1) + timedelta(days=day), index, female=False)
    spouse = id_number("441402", date(1962, 6, 1) + timedelta(days=day), index, female=True)
    return applicant, spouse


def form_data(index: int) -> dict[str, Any]:
    applicant_id, spouse_id = person_numbers(index)
    data: dict[str, Any] = copy.deepcopy(STEPS)
    data["members"] = {
        "applicant": {"name": "陈志强", "id_number": applicant_id, **APPLICANT},
        "co_applicants": [{"name": "李秀梅", "id_number": spouse_id, **SPOUSE}],
    }
    data["materials"] = {}
    return data


def with_materials(pinned: Any, data: dict[str, Any], today: date) -> dict[str, Any]:
    """Attach a file reference to every material the pinned checklist requires and lacks."""
    from formflow.forms.render import get_path, set_path

    for item in apps.checklist(pinned, data, today):
        if item.required and not get_path(data, item.path):
            set_path(data, item.path, [dict(FILE_REF)])
    return data


def record_upload(session: Any, app_id: int, account_id: int) -> None:
    """The applicant's upload that FILE_REF points at (a reference is valid only for this application's upload)."""
    from formflow.db.models import ApplicationFile
    from formflow.files.uploads import record_stored_file

    record_stored_file(session, FILE_SHA, FILE_REF["size"], FILE_REF["media_type"])
    session.add(ApplicationFile(application_id=app_id, material="scan", sha256=FILE_SHA, original_name="scan.png",
                                uploaded_by=account_id))
    session.flush()


__all__ = ["HOME_OFFICE", "MATTER", "PACK", "form_data", "person_numbers", "record_upload", "with_materials"]
