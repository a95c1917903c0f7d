"""Long CLI work shows progress: a bar on a terminal, nothing but the summary line otherwise."""

from __future__ import annotations

import io
from datetime import date

from alloc_support import SUBSIDY, approved

from formflow.allocation import register
from formflow.cli.progress import progress_bar


def test_sync_reports_what_it_found_and_each_one_done(sqlite_platform):
    p = sqlite_platform
    approved(p, on=date(2026, 1, 10), mode=SUBSIDY, size=2, area=0)
    approved(p, on=date(2026, 1, 12), mode=SUBSIDY, size=3, area=0, name="黄晓琳",
             id_number="441402200105200628", username="mj-citizen-huang")
    heard = {"done": 0, "more": 0}

    def listen(done: int, more: int) -> None:
        heard["done"] += done
        heard["more"] += more

    report = register.sync(p.sessions, p.packs, today=date(2026, 2, 1), progress=listen)
    assert len(report.created) == 2
    assert heard["more"] >= 2 and heard["done"] == heard["more"]
    # without a listener the same work is done (nothing left to file)
    assert register.sync(p.sessions, p.packs, today=date(2026, 2, 1)).created == []


def test_a_bar_on_a_terminal_and_nothing_otherwise() -> None:
    shown = io.StringIO()
    with progress_bar("Filing", stream=shown, force=True) as step:
        step(0, 3)
        for _ in range(3):
            step(1, 0)
    assert "3/3" in shown.getvalue() and "Filing" in shown.getvalue()
    quiet = io.StringIO()  # not a terminal
    with progress_bar("Filing", stream=quiet) as step:
        step(0, 3)
        step(3, 0)
    assert quiet.getvalue() == ""
