"""Prometheus metrics (prometheus-client): request latency by endpoint, and the state of the work.

Request latency is a histogram per Flask endpoint (a route name, never a URL
with ids in it). What the database knows — applications waiting per stage,
overdue applications, outbox backlog and lag, failed and dead deliveries — is
read at scrape time by a collector, so every process answers the same numbers.
Under gunicorn with several processes set `PROMETHEUS_MULTIPROC_DIR` (an empty
folder) so the request histograms of all processes are summed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask, g, request
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from formflow.db.models import Application, ApplicationStage, OutboxMessage, utcnow

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REQUEST_SECONDS = Histogram(
    "formflow_request_seconds", "Time to answer a request, by endpoint and method",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


class WorkCollector(Collector):
    """Queue depth by stage, overdue counts, outbox backlog, lag and failures, read from the database."""

    def __init__(self, sessions: Callable[[], sessionmaker[Session]]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("formflow_queue_depth", "Active applications at each stage",
                                  labels=["pack", "stage"])
        overdue = GaugeMetricFamily("formflow_overdue_applications", "Active applications past their time limit",
                                    labels=["pack"])
        backlog = GaugeMetricFamily("formflow_outbox_messages", "Outbox messages by kind and status",
                                    labels=["kind", "status"])
        lag = GaugeMetricFamily("formflow_outbox_lag_seconds",
                                "Age of the oldest outbox message due and not yet delivered")
        failing = GaugeMetricFamily("formflow_worker_failures",
                                    "Messages waiting for a retry after a failed delivery, and dead ones",
                                    labels=["state"])
        with self._sessions()() as db:
            for pack, stage, n in db.execute(select(ApplicationStage.pack, ApplicationStage.stage, func.count())
                                             .group_by(ApplicationStage.pack, ApplicationStage.stage)):
                depth.add_metric([pack, stage], n)
            for pack, n in db.execute(select(Application.pack, func.count())
                                      .where(Application.status == "active", Application.overdue.is_(True))
                                      .group_by(Application.pack)):
                overdue.add_metric([pack], n)
            for kind, status, n in db.execute(select(OutboxMessage.kind, OutboxMessage.status, func.count())
                                              .group_by(OutboxMessage.kind, OutboxMessage.status)):
                backlog.add_metric([kind, status], n)
            lag.add_metric([], outbox_lag_seconds(db))
            retrying = db.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status == "pending", OutboxMessage.attempts > 0)) or 0
            dead = db.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status == "dead")) or 0
            failing.add_metric(["retrying"], retrying)
            failing.add_metric(["dead"], dead)
        yield from (depth, overdue, backlog, lag, failing)


def outbox_lag_seconds(db: Session) -> float:
    """How long the oldest due, undelivered message has waited (0 when none)."""
    from formflow.db.models import as_utc

    oldest = db.scalar(select(func.min(OutboxMessage.available_at)).where(
        OutboxMessage.status == "pending", OutboxMessage.available_at <= utcnow()))
    return max(0.0, (utcnow() - as_utc(oldest)).total_seconds()) if oldest is not None else 0.0


def registry_for(sessions: Callable[[], sessionmaker[Session]]) -> CollectorRegistry:
    """This process's registry: request histograms (all processes' in multiprocess mode) and the work."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_SECONDS)
    registry.register(WorkCollector(sessions))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


def init_app(app: Flask) -> None:
    """Time every request by endpoint."""

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _observe(response: Any) -> Any:
        started = getattr(g, "request_started", None)
        if started is not None:
            REQUEST_SECONDS.labels(request.endpoint or "unmatched", request.method,
                                   str(response.status_code)).observe(time.perf_counter() - started)
        return response
