"""Portal test helpers: complete form data for each shipped pack."""

from __future__ import annotations

import copy
from datetime import date

import pytest

TODAY = date(2026, 3, 2)
from portal_files import FILES, SHA, SIGNATURE, attach_fixture_files  # noqa: F401,E402 (re-exported)

JIANGXI_OK = {
    "category": {"guarantee_mode": "rental_in_kind", "applicant_category": "urban-low-income"},
    "members": {
        "applicant": {
            "basic": {"name": "王芳", "id_number": "36010219950410004X", "gender": "female",
                      "mobile": "13807910002", "marital_status": "unmarried", "hukou_address": "南昌市东湖区示例路1号"},
            "employment": {"employment_status": "flexible", "monthly_income": 1200},
            "residence": {"current_address": "南昌市东湖区示例路1号", "residence_type": "rent_private",
                          "housing_area": 20},
        },
    },
    "assets": {"has_vehicle": False, "has_real_estate": False, "has_business_registration": False,
               "deposits_and_securities": 1000,
               "authorization": {"signing_method": "handwritten", "signature": SIGNATURE}},
    "materials": {
        "id_card": {"name": "王芳", "id_number": "36010219950410004X"},
        "household_register": {"household_head": "王芳"},
        "uploads": {"income_certificate": FILES, "housing_status_certificate": FILES},
    },
}


@pytest.fixture
def jiangxi_ok():
    return copy.deepcopy(JIANGXI_OK)
