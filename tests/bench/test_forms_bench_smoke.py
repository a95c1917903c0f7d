"""Smoke test of `bench/forms_bench.py`: it measures every figure it promises (no timing is asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_the_forms_bench_measures_every_figure():
    sys.path.insert(0, str(BENCH))
    try:
        import forms_bench
    finally:
        sys.path.remove(str(BENCH))
    figures = forms_bench.measure(rounds=2)
    for key in ("validate_per_rs", "form700_render_ms", "form700_validate_ms", "pack_load_s", "validate_ms",
                "rs_validate_ms"):
        assert figures[key] > 0, key
    assert figures["form700_fields"] >= forms_bench.FIELDS_WANTED
