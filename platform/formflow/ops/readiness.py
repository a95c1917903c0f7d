"""Readiness: can this process do its work — database, file storage, worker keeping up?

`/healthz` says the process is up; `/readyz` says a load balancer may send it
requests: the database answers, the file storage takes and gives back a probe
file, and the outbox worker keeps up (the oldest due message has waited less
than `FORMFLOW_READY_MAX_OUTBOX_LAG` seconds, 300 by default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from formflow.ops.metrics import outbox_lag_seconds
from formflow.text.catalogue import _

PROBE = b"formflow readiness probe\n"


@dataclass
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(v == "ok" for v in self.checks.values())


def readiness(services: Any, max_outbox_lag: float) -> Readiness:
    """Each part's state: "ok" or what is wrong (no personal data, no stack traces)."""
    out = Readiness()
    try:
        with services.sessions() as db:
            db.execute(text("SELECT 1"))
            lag = outbox_lag_seconds(db)
        out.checks["database"] = "ok"
        out.checks["worker"] = "ok" if lag <= max_outbox_lag else _(
            "the outbox is %(seconds)s s behind (limit %(limit)s s): is a worker running?",
            seconds=int(lag), limit=int(max_outbox_lag))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; its class says which
        out.checks["database"] = _("the database does not answer (%(error)s)", error=type(exc).__name__)
        out.checks["worker"] = _("unknown while the database does not answer")
    try:
        digest = services.storage.write(PROBE)
        out.checks["storage"] = "ok" if services.storage.read(digest) == PROBE else _(
            "the file storage gave back other bytes")
    except Exception as exc:  # noqa: BLE001
        out.checks["storage"] = _("the file storage does not answer (%(error)s)", error=type(exc).__name__)
    return out
