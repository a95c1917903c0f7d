"""Operations endpoints: `/readyz` for the load balancer, `/metrics` for Prometheus.

`/metrics` answers a request bearing `FORMFLOW_METRICS_TOKEN` (`Authorization:
Bearer …`) or, when no token is set, a request from this machine only
(127.0.0.1 / ::1: scrape through the node's own address or the proxy).
"""

from __future__ import annotations

import hmac
import os

from flask import Blueprint, Response, abort, jsonify, request

from formflow.ops import logs, metrics
from formflow.ops.readiness import readiness
from formflow.web.context import services

bp = Blueprint("ops", __name__)

LOOPBACK = {"127.0.0.1", "::1"}


def init_app(app) -> None:
    # `formflow serve` sets FORMFLOW_LOG_FORMAT (json in production, text in the demo); other hosts choose
    logs.init_app(app, os.environ.get("FORMFLOW_LOG_FORMAT") or None)
    metrics.init_app(app)
    app.extensions["formflow.metrics"] = metrics.registry_for(lambda: app.extensions["formflow.services"].sessions)


@bp.get("/readyz")
def ready():
    max_lag = float(os.environ.get("FORMFLOW_READY_MAX_OUTBOX_LAG", "300"))
    state = readiness(services(), max_lag)
    return jsonify(status="ok" if state.ready else "unavailable", checks=state.checks), 200 if state.ready else 503


@bp.get("/metrics")
def prometheus():
    token = os.environ.get("FORMFLOW_METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            abort(404)
    elif request.remote_addr not in LOOPBACK:
        abort(404)
    from flask import current_app

    body = metrics.exposition(current_app.extensions["formflow.metrics"])
    return Response(body, mimetype=None, content_type=metrics.CONTENT_TYPE,
                    headers={"Cache-Control": "no-store"})
