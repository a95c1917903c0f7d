"""The lottery's per-size cursor draws exactly what the original flat scan drew.

The reference below is the algorithm as it was before the cursor (every
entrant scanned the flat list from the start); both run on many random
inputs, including odd ones (sizes that are not numbers, flats without
bounds, flats sharing a code, more entrants than flats).
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from formflow.allocation import lottery


def reference_draw(entrants, flats, *, seed, witness, inputs_sha256) -> list[dict[str, Any]]:
    def ticket(code: str) -> str:
        return hashlib.sha256(f"{seed}:{witness}:{inputs_sha256}:{code}".encode()).hexdigest()

    def fits(flat, size) -> bool:
        try:
            return int(flat["min_size"]) <= int(size) <= int(flat["max_size"])
        except (KeyError, TypeError, ValueError):
            return False

    drawn = sorted(((ticket(str(e["code"])), e) for e in entrants), key=lambda p: (p[0], str(p[1]["code"])))
    taken: set[str] = set()
    out = []
    for order, (tick, entrant) in enumerate(drawn, start=1):
        flat = next((f for f in flats if str(f["code"]) not in taken and fits(f, entrant.get("size"))), None)
        if flat is not None:
            taken.add(str(flat["code"]))
        out.append({"order": order, "entrant": str(entrant["code"]), "ticket": tick,
                    "flat": str(flat["code"]) if flat is not None else None})
    return out


def _size(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.03:
        return None
    if roll < 0.05:
        return "x"
    if roll < 0.08:
        return str(rng.randint(1, 7))
    return rng.randint(1, 7)


def _flat(rng: random.Random, i: int, codes: int) -> dict[str, Any]:
    lo = rng.randint(0, 6)
    flat: dict[str, Any] = {"code": f"F{rng.randint(1, codes)}" if rng.random() < 0.1 else f"G{i}",
                            "min_size": lo, "max_size": lo + rng.randint(-1, 4)}
    if rng.random() < 0.03:
        del flat["max_size"]
    if rng.random() < 0.03:
        flat["min_size"] = "?"
    return flat


def test_the_cursor_draws_what_the_reference_draws_on_random_inputs():
    rng = random.Random(20261201)
    allocated = 0
    for case in range(400):
        n_entrants, n_flats = rng.randint(0, 60), rng.randint(0, 60)
        entrants = [{"code": f"E{rng.randint(1, 10 * n_entrants + 1)}" if rng.random() < 0.05 else f"H{i}",
                     "size": _size(rng)} for i in range(n_entrants)]
        flats = [_flat(rng, i, 5) for i in range(n_flats)]
        args = {"seed": f"seed-{case}", "witness": str(rng.randint(0, 99)), "inputs_sha256": f"{case:064x}"}
        expected = reference_draw(entrants, flats, **args)
        assert lottery.draw(entrants, flats, **args) == expected, case
        allocated += sum(1 for row in expected if row["flat"])
    assert allocated > 1000  # positive control: the cases really allocate flats


def test_a_large_draw_matches_too():
    rng = random.Random(7)
    entrants = [{"code": f"H{i:05d}", "size": rng.randint(1, 6)} for i in range(3000)]
    flats = [{"code": f"F{i:04d}", "min_size": (lo := rng.randint(1, 4)), "max_size": lo + rng.randint(0, 2)}
             for i in range(300)]
    args = {"seed": "big", "witness": "07 19", "inputs_sha256": "ab" * 32}
    result = lottery.draw(entrants, flats, **args)
    assert result == reference_draw(entrants, flats, **args)
    assert sum(1 for row in result if row["flat"]) == 300
