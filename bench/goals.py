"""The issue's goal figures that are not database rates: PDF, transition, lottery, forms, packs.

`NoticeCapture` wraps `formflow.documents.notices.render_pdf` while the flow runs:
it records the time spent rendering PDFs inside transitions (so the transition's
engine time can be told apart) and the arguments of the first real notice, which
`pdf_ms` then renders again warm. `lottery_s` draws 100,000 entrants over 1,000
flats. `forms_figures` asks bench/forms_bench.py (another part of the bench) for
its figures when that module exists; a key it does not give stays None.
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

FORM_KEYS = ("validate_per_rs", "form700_render_ms", "form700_validate_ms", "pack_load_s")


class NoticeCapture:
    """While active, every notice PDF rendered through `documents.notices` is timed and the first kept."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.first: tuple[tuple[Any, ...], dict[str, Any]] | None = None

    def __enter__(self) -> NoticeCapture:
        from formflow.documents import notices

        self._module, self._original = notices, notices.render_pdf

        def timed(*args: Any, **kwargs: Any) -> bytes:
            started = time.perf_counter()
            try:
                return self._original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1
                if self.first is None:
                    self.first = (args, dict(kwargs))

        notices.render_pdf = timed
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._module.render_pdf = self._original

    def pdf_ms(self, repeat: int = 5) -> float | None:
        """Median ms of `render_pdf` on the captured notice, after one warm-up render.

        Notices render after commit (the outbox worker), so a flow usually captures none: then the
        real notice templates are rendered warm by `pdf_bench.measure` instead."""
        if self.first is None:
            try:
                from pdf_bench import measure
            except ImportError:
                return None
            return float(measure(rounds=repeat)["pdf_ms"])
        from formflow.documents.pdf import render_pdf

        args, kwargs = self.first
        render_pdf(*args, **kwargs)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            render_pdf(*args, **kwargs)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)


def transition_ms(steps: list[Any], capture: NoticeCapture) -> float | None:
    """Mean engine time of the flow's `engine.perform` transitions, PDF rendering taken out."""
    engine_steps = [s for s in steps if s.via == "engine.perform"]
    if not engine_steps:
        return None
    total = sum(s.ms for s in engine_steps) - capture.seconds * 1000
    return max(total, 0.0) / len(engine_steps)


def lottery_s(entrants: int = 100_000, flats: int = 1_000, seed: int = 20260302) -> float:
    """Seconds of one `lottery.draw` over random household sizes 1–6 and flats for 1–6 people."""
    from formflow.allocation import lottery

    rnd = random.Random(seed)
    people = [{"code": f"H{i:06d}", "size": rnd.randint(1, 6)} for i in range(entrants)]
    homes = []
    for i in range(flats):
        low = rnd.randint(1, 4)
        homes.append({"code": f"F{i:04d}", "min_size": low, "max_size": low + rnd.randint(0, 2)})
    started = time.perf_counter()
    lottery.draw(people, homes, seed="bench", witness="07 19 23", inputs_sha256="0" * 64)
    return time.perf_counter() - started


def forms_figures(log: Any) -> dict[str, Any]:
    """`forms_bench.measure()`'s figures under FORM_KEYS (None where it is missing or gives none)."""
    out: dict[str, Any] = dict.fromkeys(FORM_KEYS)
    try:
        from forms_bench import measure  # type: ignore[import-not-found]
    except ImportError:
        log("    bench/forms_bench.py is not there: form figures reported as null")
        return out
    try:
        found = measure()
    except Exception as exc:  # noqa: BLE001 - another part of the bench; report, do not stop the run
        log(f"    forms_bench.measure() failed: {exc.__class__.__name__}: {exc}")
        return out
    if isinstance(found, dict):
        for key in FORM_KEYS:
            value = found.get(key, (found.get("figures") or {}).get(key) if isinstance(found.get("figures"), dict)
                              else None)
            out[key] = value
    return out


__all__ = ["FORM_KEYS", "NoticeCapture", "forms_figures", "lottery_s", "transition_ms"]
