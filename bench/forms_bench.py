"""Forms on the hot path: validation against jsonschema-rs, a 710-field form, pack loading.

`measure()` returns (medians of interleaved runs, milliseconds unless named otherwise):

- `validate_ms`: `applications.checks.validation_errors` of the real Meizhou form, 5 members;
- `rs_validate_ms`: jsonschema-rs alone on the same document and schema;
- `validate_per_rs`: their ratio (goal ≤ 2), both timed `BATCH` calls at a time in alternating order
  (`validate_batched_ms`, `rs_validate_batched_ms`); `validate_per_rs_single_calls` is the ratio of
  the single-call medians above, the figure earlier rounds reported;
- `validate_hidden_ms`: the same document keeping a value in a field its condition hides (the pruning path);
- `form700_render_ms` / `form700_validate_ms`: one wizard step of a 710-field form (goal < 20 ms) and its
  validation (goal < 1 ms). The form is the Meizhou form scaled up: its steps copied under new names until
  it has 710 fields, the copies filled with the same values;
- `pack_load_s`: `load_packs` of the shipped packs in a fresh process, i.e. what `formflow check` does
  (goal < 1 s); `pack_load_cpu_s` the CPU time of the same (what it is on a machine not shared).

`cpu_ms` gives the same medians in CPU time of the process (on a shared machine wall time includes
waiting for a core). Every run sees a document of its own (an amount changes), so no cache of a
result is measured. Run alone: `python bench/forms_bench.py` prints the JSON. `bench/run.py` calls `measure()`.
"""

from __future__ import annotations

import copy
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "platform"))
sys.path.insert(0, str(ROOT / "bench"))

PACK, MATTER = "meizhou-meijiang", "public-rental-housing"
TODAY = date(2026, 3, 2)
FIELDS_WANTED = 710
MEMBERS = 5
#: calls timed together for the microsecond figures (validation and rs alone)
BATCH = 50


@lru_cache(maxsize=1)
def _packs() -> Any:
    from formflow.packs.loader import load_packs

    return load_packs(ROOT, only=[PACK])


def _pinned(form_bundle: dict[str, Any] | None = None) -> Any:
    """The Meizhou matter pinned from the shipped packs (no database: the versions are content hashes)."""
    from formflow.packs.versions import Pinned, _documents, content_hash

    documents = _documents(_packs(), PACK, MATTER)
    if form_bundle is not None:
        documents["form"] = form_bundle
    versions: dict[str, Any] = {"tables": {t: content_hash(c) for t, c in documents["tables"].items()}}
    for kind, content in documents.items():
        if kind != "tables" and content is not None:
            versions[kind] = content_hash(content)
    return Pinned(versions, documents)


def meizhou_data(members: int = MEMBERS) -> dict[str, Any]:
    """A valid Meizhou application: applicant, spouse and children, every required material attached."""
    from drafts import form_data, id_number, with_materials

    data = form_data(1)
    for i in range(members - 2):
        data["members"]["co_applicants"].append({
            "name": "陈小明", "relation": "child", "monthly_income": 0,
            "id_number": id_number("441402", date(2010 + i, 3, 1), 7 + i, female=False)})
    return with_materials(_pinned(), data, TODAY)


def _field_count(pinned: Any, data: dict[str, Any]) -> int:
    from formflow.applications.pinned import form_of

    return sum(1 for n in form_of(pinned).fields(data) if n.kind == "field")


def form700(pinned: Any, data: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The Meizhou form with its steps copied under new names until it has FIELDS_WANTED fields, and data."""
    bundle = copy.deepcopy(pinned.documents["form"])
    form = bundle["form"]
    big = copy.deepcopy(data)
    base = _field_count(pinned, data)
    steps = [s for s in list(form["properties"]) if s != "materials"]
    copies = 0
    count = base
    while count < FIELDS_WANTED:
        copies += 1
        for step in steps:
            name = f"{step}_{copies}"
            form["properties"][name] = copy.deepcopy(form["properties"][step])
            if step in big:
                big[name] = copy.deepcopy(big[step])
        count = _field_count(_pinned(bundle), big)
    return _pinned(bundle), big


def _vary(data: dict[str, Any], i: int) -> dict[str, Any]:
    """The same document with an amount of its own (each run validates new data)."""
    out = copy.deepcopy(data)
    out["assets"]["deposits"] = 1000 + i
    return out


def _interleaved(runs: dict[str, Callable[[int], Any]], rounds: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median milliseconds (wall, and CPU of this process) of each callable, taking turns round after round.

    The CPU figure is what the code costs when the machine is shared (wall time then includes waiting
    for a core); both are reported.
    """
    wall: dict[str, list[float]] = {k: [] for k in runs}
    cpu: dict[str, list[float]] = {k: [] for k in runs}
    for i in range(rounds):
        for name, fn in runs.items():
            started, used = time.perf_counter(), time.process_time()
            fn(i)
            wall[name].append((time.perf_counter() - started) * 1000)
            cpu[name].append((time.process_time() - used) * 1000)
    return ({k: statistics.median(v) for k, v in wall.items()}, {k: statistics.median(v) for k, v in cpu.items()})


def _batched(runs: dict[str, Callable[[int], Any]], rounds: int, batch: int) -> dict[str, float]:
    """Median milliseconds per call of each callable, timed `batch` calls at a time, in turns.

    A call of a few microseconds timed alone is mostly the clock and the loop around it; timed in
    batches (as `timeit` does) it is the call. The order of the callables alternates from round to
    round, so neither always runs right after the other (warm caches of the same document).
    Call k of round i gets index i * batch + k: every call sees a document of its own.
    """
    per_call: dict[str, list[float]] = {k: [] for k in runs}
    names = list(runs)
    for i in range(rounds):
        for name in names if i % 2 == 0 else reversed(names):
            fn, first = runs[name], i * batch
            started = time.perf_counter()
            for k in range(first, first + batch):
                fn(k)
            per_call[name].append((time.perf_counter() - started) * 1000 / batch)
    return {k: statistics.median(v) for k, v in per_call.items()}


def pack_load_s(rounds: int = 3) -> tuple[float, float]:
    """Median seconds (wall, CPU) of `load_packs` of every shipped pack, each in a fresh interpreter."""
    code = ("import sys,time; sys.path.insert(0, sys.argv[1] + '/platform'); from pathlib import Path; "
            "from formflow.packs.loader import load_packs; t = time.perf_counter(); c = time.process_time(); "
            "ps = load_packs(Path(sys.argv[1])); "
            "print(time.perf_counter() - t, time.process_time() - c, len(ps.problems))")
    seconds, cpu = [], []
    for _round in range(rounds):
        out = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, check=True)
        wall, used, _problems = out.stdout.split()
        seconds.append(float(wall))
        cpu.append(float(used))
    return statistics.median(seconds), statistics.median(cpu)


def measure(rounds: int = 30) -> dict[str, Any]:
    import jsonschema_rs

    from formflow.applications import checks
    from formflow.applications.pinned import form_of
    if True:
        pinned = _pinned()
        data = meizhou_data()
        assert checks.validation_errors(pinned, data) == [], checks.validation_errors(pinned, data)
        bundle = pinned.documents["form"]
        rs = jsonschema_rs.validator_for({"$ref": bundle["uri"]},
                                         registry=jsonschema_rs.Registry(
                                             list((bundle["common"] | {bundle["uri"]: bundle["form"]}).items())))
        assert rs.is_valid(data)
        big_pinned, big = form700(pinned, data)
        assert checks.validation_errors(big_pinned, big) == []
        big_form = form_of(big_pinned)
        step = list(big_pinned.form["properties"])[1]
        docs = [_vary(data, i) for i in range(rounds)]
        hidden = [{**d, "housing": {**d["housing"], "other_housing_benefits_detail": "x"}} for d in docs]
        assert checks.validation_errors(pinned, hidden[0]) == []
        bigs = [_vary(big, i) for i in range(rounds)]
        medians, cpu = _interleaved({
            "validate_ms": lambda i: checks.validation_errors(pinned, docs[i]),
            "rs_validate_ms": lambda i: rs.is_valid(docs[i]),
            "form700_render_ms": lambda i: big_form.step_node(step, bigs[i]),
            "form700_validate_ms": lambda i: checks.validation_errors(big_pinned, bigs[i]),
        }, rounds)
        fields = _field_count(big_pinned, big)
        # apart, so that the goal figures' rounds stay as they were
        hidden_wall, hidden_cpu = _interleaved({"validate_hidden_ms": lambda i: checks.validation_errors(
            pinned, hidden[i])}, rounds)
        medians, cpu = medians | hidden_wall, cpu | hidden_cpu
        # the goal's ratio: both timed BATCH calls at a time, order alternating (see `_batched`)
        many = [_vary(data, i) for i in range(rounds * BATCH)]
        batched = _batched({"validate_ms": lambda k: checks.validation_errors(pinned, many[k]),
                            "rs_validate_ms": lambda k: rs.is_valid(many[k])}, rounds, BATCH)
    load_wall, load_cpu = pack_load_s()
    return {
        "validate_per_rs": batched["validate_ms"] / batched["rs_validate_ms"],
        "validate_batched_ms": batched["validate_ms"],
        "rs_validate_batched_ms": batched["rs_validate_ms"],
        "validate_per_rs_single_calls": medians["validate_ms"] / medians["rs_validate_ms"],
        "form700_render_ms": medians["form700_render_ms"],
        "form700_validate_ms": medians["form700_validate_ms"],
        "pack_load_s": load_wall,
        "pack_load_cpu_s": load_cpu,
        "validate_ms": medians["validate_ms"],
        "rs_validate_ms": medians["rs_validate_ms"],
        "validate_hidden_ms": medians["validate_hidden_ms"],
        "form700_fields": fields,
        "cpu_ms": {k: round(v, 4) for k, v in cpu.items()},
        "validate_per_rs_cpu": cpu["validate_ms"] / cpu["rs_validate_ms"] if cpu["rs_validate_ms"] else None,
    }


if __name__ == "__main__":
    print(json.dumps(measure(), ensure_ascii=False))
