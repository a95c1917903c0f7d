"""Quantification tables → marking schema: every row, pass|fail|na, a note on fail."""

from __future__ import annotations

import yaml
from wf_support import ROOT

from formflow.reviews.tables import outcome, validate_marking

TABLE = yaml.safe_load((ROOT / "schemas/meizhou-meijiang/public-rental-housing/tables/acceptance.yaml")
                       .read_text(encoding="utf-8"))


def _marking(**override):
    rows = {str(r["no"]): {"criteria": ["pass"] * len(r["criteria"])} for r in TABLE["rows"]}
    rows.update(override)
    return {"rows": rows}


def test_full_pass_marking_is_valid():
    assert validate_marking(TABLE, _marking()) == []
    assert outcome(_marking()) == "pass"


def test_fail_needs_a_note():
    bad = _marking(**{"1": {"criteria": ["fail", "pass"]}})
    errors = validate_marking(TABLE, bad)
    assert [e.pointer for e in errors] == ["/rows/1/note"] and "必填" in errors[0].message
    good = _marking(**{"1": {"criteria": ["fail", "na"], "note": "未签字"}})
    assert validate_marking(TABLE, good) == [] and outcome(good) == "fail"


def test_every_row_and_criterion_is_required():
    missing_row = _marking()
    del missing_row["rows"]["2"]
    assert [e.pointer for e in validate_marking(TABLE, missing_row)] == ["/rows/2"]
    short = _marking(**{"1": {"criteria": ["pass"]}})
    assert [e.pointer for e in validate_marking(TABLE, short)] == ["/rows/1/criteria"]
    wrong = _marking(**{"1": {"criteria": ["ok", "pass"]}})
    assert [e.pointer for e in validate_marking(TABLE, wrong)] == ["/rows/1/criteria/0"]
