"""The embedded worker: one thread in a `formflow serve` process, woken right after a commit that enqueued.

Commits in this process set its event (`outbox.wake_on_commit`), so a notice is
rendered a moment after the transition's response; it also polls every
`worker_poll_seconds` for messages other processes or nodes enqueued, retries
whose backoff ended and leases that expired. Running one in every server process
is safe for the same reason several `formflow worker`s are (claims and leases).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from formflow.outbox import stop_waking, wake_on_commit
from formflow.outbox.worker import Options, batches, load_handlers

log = logging.getLogger(__name__)


class EmbeddedWorker(threading.Thread):
    """A daemon thread delivering the outbox until `stop()`."""

    def __init__(self, services: Any, options: Options, *, poll_seconds: float) -> None:
        super().__init__(name="formflow-outbox", daemon=True)
        self.services = services
        self.options = options
        self.poll_seconds = poll_seconds
        self.wake = threading.Event()
        self.stopping = threading.Event()

    def run(self) -> None:
        load_handlers()
        wake_on_commit(self.wake)
        try:
            while not self.stopping.is_set():
                self.wake.clear()
                try:
                    for _report in batches(self.services.sessions, self.services, self.options):
                        if self.stopping.is_set():
                            break
                except Exception:  # noqa: BLE001 - a database hiccup must not end the thread
                    log.exception("outbox worker batch failed")
                self.wake.wait(self.poll_seconds)
        finally:
            stop_waking(self.wake)

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()


def start(services: Any) -> EmbeddedWorker | None:
    """Start the embedded worker unless the settings turn it off (FORMFLOW_EMBEDDED_WORKER=0)."""
    settings = services.settings
    if not settings.embedded_worker:
        return None
    worker = EmbeddedWorker(services, Options.from_settings(settings), poll_seconds=settings.worker_poll_seconds)
    worker.start()
    return worker
