"""Progress of long CLI work: a bar on a terminal, nothing extra otherwise (the command prints one summary line).

The core reports through a plain callback, `progress(done, more)`: `more` items
became known, `done` items were finished. Uses `rich` (a well-kept library);
the bar goes to stderr so stdout stays the summary a cron job mails.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

Progress = Callable[[int, int], None]


def _quiet(done: int, more: int) -> None:
    return None


@contextmanager
def progress_bar(label: str, *, stream: TextIO | None = None, force: bool | None = None) -> Iterator[Progress]:
    """A `progress(done, more)` callback: a rich bar when `stream` (stderr) is a terminal, else a no-op."""
    out = stream or sys.stderr
    shown = force if force is not None else out.isatty()
    if not shown:
        yield _quiet
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
             console=Console(file=out, force_terminal=shown), transient=False) as bar:
        task = bar.add_task(label, total=0)

        def step(done: int, more: int) -> None:
            if more:
                bar.update(task, total=(bar.tasks[0].total or 0) + more)
            if done:
                bar.advance(task, done)

        yield step
