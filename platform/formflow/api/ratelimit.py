"""Per-account limits on the API's write endpoints (POST, PUT, PATCH, DELETE with a bearer token).

A sliding window of `FORMFLOW_API_WRITES_PER_MINUTE` (60) writes per account per
minute, counted in each process's memory (a deque of times per account, a dozen
lines: the limiter libraries at hand bucket all keys together by default or need
a store this embedded default does not run): across several processes each counts alone, so the proxy's per-address
limit (docs/nginx.conf, `limit_req`) is the cluster-wide bound and this one stops
a single token hammering one process. Over the limit: 429 with Retry-After.
Requests without a valid token are left to the view (401).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from flask import current_app, request

from formflow.api.errors import ApiError

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PER_MINUTE = 60
WINDOW = 60.0
_LOCK = threading.Lock()


def allow(seen: dict[int, deque[float]], account_id: int, per_minute: int, now: float | None = None) -> bool:
    """Record one write of `account_id` in `seen`; False when it already made `per_minute` in the last minute."""
    moment = time.monotonic() if now is None else now
    with _LOCK:
        times = seen.setdefault(account_id, deque())
        while times and times[0] <= moment - WINDOW:
            times.popleft()
        if len(times) >= per_minute:
            return False
        times.append(moment)
        return True


def check_write() -> None:
    """Count this write against its account; ApiError 429 past the limit."""
    if request.method not in WRITES:
        return
    from formflow.api.common import bearer_token, current_account

    if bearer_token() is None:
        return
    try:
        account = current_account()
    except ApiError:
        return  # the view answers 401 itself
    settings: Any = current_app.extensions.get("formflow", {}).get("settings")
    per_minute = int(getattr(settings, "api_writes_per_minute", 0) or DEFAULT_PER_MINUTE)
    seen = current_app.extensions.setdefault("formflow.api_writes", {})  # the app's own counts
    if not allow(seen, account.id, per_minute):
        raise ApiError(429, headers={"Retry-After": "60"})
