"""The lottery: a deterministic draw anyone can recompute from the published JSON.

Before the draw the batch publishes its inputs (entrants, flats) with their
SHA-256 (`inputs_sha256`) and the SHA-256 of a secret random seed
(`seed_sha256`). At the draw the seed is revealed, together with an optional
`witness` value entered in public at the draw (e.g. numbers read out by a
notary), which the operator could not know when committing the seed.

The draw:

1. every entrant gets a ticket `sha256("<seed>:<witness>:<inputs_sha256>:<entrant code>")` (hex);
2. entrants are taken in ascending ticket order;
3. each takes the first flat, in published order, not yet taken whose
   `min_size <= size <= max_size`; an entrant with no such flat left gets none.

`python -m formflow.allocation.lottery verify <file.json>` (or
`formflow lottery verify <file.json>`) checks both hashes and recomputes the
result from the file alone. This module has no dependency beyond the
standard library: its words come from the catalogue when formflow is
installed, and are the English msgids when the file is used on its own.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

try:
    from formflow.text.catalogue import DEFAULT_LOCALE, _, in_locale
except ImportError:  # pragma: no cover - the verifier copied on its own
    DEFAULT_LOCALE = "en"

    def _(msgid: str, **params: Any) -> str:
        return msgid % params if params else msgid

    def in_locale(locale: str, msgid: str, **params: Any) -> str:
        return _(msgid, **params)

FORMAT = "formflow-lottery/1"
ALGORITHM_MSGID = (
    "ticket = sha256(seed + ':' + witness + ':' + inputs_sha256 + ':' + entrant.code) (hexadecimal); "
    "in ascending ticket order, each household takes the first flat of the flat list not yet taken with "
    "min_size ≤ household size ≤ max_size."
)
INPUT_KEYS = ("format", "batch", "title", "entrants", "flats")


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def inputs_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a published document that the inputs hash covers."""
    return {key: doc.get(key) for key in INPUT_KEYS}


def inputs_digest(doc: Mapping[str, Any]) -> str:
    return sha256_hex(canonical(inputs_of(doc)))


def seed_digest(seed: str) -> str:
    return sha256_hex(seed)


def ticket(seed: str, witness: str, inputs_sha256: str, code: str) -> str:
    return sha256_hex(f"{seed}:{witness}:{inputs_sha256}:{code}")


def _size(value: Any) -> int | None:
    """A size as the draw compares it (`int(...)`), or None when it is not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bounds(flat: Mapping[str, Any]) -> tuple[int, int] | None:
    try:
        return int(flat["min_size"]), int(flat["max_size"])
    except (KeyError, TypeError, ValueError):
        return None


def _fits(flat: Mapping[str, Any], size: Any) -> bool:
    bounds, wanted = _bounds(flat), _size(size)
    return bounds is not None and wanted is not None and bounds[0] <= wanted <= bounds[1]


class _Cursors:
    """Per household size, the flats that fit it in published order and how far the draw has got.

    Flats are only ever taken, never given back, so a size's cursor only moves
    forward: the whole draw reads each size's list once (the reference
    algorithm scanned the flat list from the start for every entrant).
    """

    def __init__(self, flats: Sequence[Mapping[str, Any]]) -> None:
        self.codes = [str(f["code"]) for f in flats]
        self.bounds = [_bounds(f) for f in flats]
        self.taken: set[str] = set()
        self.fitting: dict[int, list[int]] = {}
        self.at: dict[int, int] = {}

    def take(self, size: int) -> str | None:
        fitting = self.fitting.get(size)
        if fitting is None:
            fitting = self.fitting[size] = [i for i, b in enumerate(self.bounds)
                                            if b is not None and b[0] <= size <= b[1]]
            self.at[size] = 0
        at, codes, taken = self.at[size], self.codes, self.taken
        while at < len(fitting) and codes[fitting[at]] in taken:
            at += 1
        self.at[size] = at
        if at == len(fitting):
            return None
        code = codes[fitting[at]]
        taken.add(code)
        return code


def draw(entrants: Sequence[Mapping[str, Any]], flats: Sequence[Mapping[str, Any]], *, seed: str,
         witness: str, inputs_sha256: str) -> list[dict[str, Any]]:
    """The result: one row per entrant in draw order, with the flat it gets (or None)."""
    prefix = f"{seed}:{witness}:{inputs_sha256}:".encode()
    codes = [str(e["code"]) for e in entrants]
    sha256 = hashlib.sha256
    tickets = [sha256(prefix + code.encode()).hexdigest() for code in codes]
    take = _Cursors(flats).take
    out: list[dict[str, Any]] = []
    # (ticket, code, position): compared in C; equal code and ticket keep the entrants' order, as before
    for order, (ticket_hex, code, i) in enumerate(sorted(zip(tickets, codes, range(len(codes)), strict=True)), start=1):
        size = _size(entrants[i].get("size"))
        out.append({"order": order, "entrant": code, "ticket": ticket_hex,
                    "flat": take(size) if size is not None else None})
    return out


def document(*, batch: int, title: str, entrants: Sequence[Mapping[str, Any]],
             flats: Sequence[Mapping[str, Any]], seed_sha256: str | None, seed: str | None = None,
             witness: str | None = None, result: Sequence[Mapping[str, Any]] | None = None,
             extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The published JSON of a batch (before the draw: no seed, witness or result)."""
    doc: dict[str, Any] = {
        "format": FORMAT, "batch": batch, "title": title,
        "entrants": [dict(e) for e in entrants], "flats": [dict(f) for f in flats],
    }
    doc["inputs_sha256"] = inputs_digest(doc)
    doc["seed_sha256"] = seed_sha256
    doc["algorithm"] = in_locale(DEFAULT_LOCALE, ALGORITHM_MSGID)  # a published record: the authority's language
    doc["seed"] = seed
    doc["witness"] = witness
    doc["result"] = [dict(r) for r in result] if result is not None else None
    if extra:
        doc.update({k: v for k, v in extra.items() if k not in doc})
    return doc


def verify(doc: Mapping[str, Any]) -> list[str]:
    """Every way the document disagrees with itself; empty when the draw checks out."""
    problems: list[str] = []
    if doc.get("format") != FORMAT:
        return [_("Unsupported format %(found)s (should be %(format)s)", found=repr(doc.get("format")),
                  format=FORMAT)]
    digest = inputs_digest(doc)
    if doc.get("inputs_sha256") != digest:
        problems.append(_("The entrants and flats do not match the published inputs_sha256 (recomputed: %(digest)s)",
                          digest=digest))
    seed = doc.get("seed")
    if not isinstance(seed, str) or not seed:
        return [*problems, _("The seed is not published yet: the draw has not taken place")]
    if seed_digest(seed) != doc.get("seed_sha256"):
        problems.append(_("The published seed does not match the seed_sha256 published before the draw"))
    committed = doc.get("witness_sha256")
    if committed and hashlib.sha256(str(doc.get("witness") or "").encode()).hexdigest() != committed:
        problems.append(_("The published witness does not match the witness_sha256 committed before the draw"))
    again = draw(doc.get("entrants") or [], doc.get("flats") or [], seed=seed,
                 witness=str(doc.get("witness") or ""), inputs_sha256=str(doc.get("inputs_sha256")))
    if again != list(doc.get("result") or []):
        problems.append(_("The result recomputed from the published inputs differs from the published result"))
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "verify":
        print(_("Usage: python -m formflow.allocation.lottery verify <lottery result.json>"), file=sys.stderr)
        return 2
    with open(args[1], encoding="utf-8") as fh:
        doc = json.load(fh)
    problems = verify(doc)
    if problems:
        for problem in problems:
            print(_("Mismatch: %(problem)s", problem=problem))
        return 1
    allocated = sum(1 for row in doc["result"] if row.get("flat"))
    print(_("Verified: %(title)s (batch %(batch)s), %(entrants)s households took part, %(allocated)s flats "
            "allocated; the seed and the inputs match the hashes published before the draw, the result "
            "recomputes.", title=doc.get("title"), batch=doc.get("batch"), entrants=len(doc["result"]),
            allocated=allocated))
    for row in doc["result"]:
        print(f"  {row['order']:>4}  {row['entrant']}  →  {row['flat'] or _('no flat')}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
