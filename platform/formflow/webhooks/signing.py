"""The signature of a webhook: HMAC-SHA256 over "<timestamp>.<body>" with the subscription's secret."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE = "X-Formflow-Signature"
TIMESTAMP = "X-Formflow-Timestamp"
#: a receiver should refuse a timestamp further than this from its own clock (replays)
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The value of X-Formflow-Signature: "sha256=<hex>"."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float | None = None,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)
