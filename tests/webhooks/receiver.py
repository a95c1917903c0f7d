"""A partner system's webhook receiver on 127.0.0.1: it verifies the signature as the README tells
partners to (HMAC-SHA256 of "<timestamp>.<body>" with the shared secret), answering 204 or 401."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def verified(secret: str, headers: Any, body: bytes, tolerance: int = 300) -> bool:
    """The README's snippet."""
    timestamp = headers.get("X-Formflow-Timestamp", "")
    signature = headers.get("X-Formflow-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


class Receiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.accepted: list[dict[str, Any]] = []
        self.refused = 0
        self.delay = 0.0
        self.status = 204
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if owner.delay:
                    time.sleep(owner.delay)
                if not verified(owner.secret, self.headers, body):
                    owner.refused += 1
                    code = 401
                else:
                    owner.accepted.append({"body": json.loads(body), "event": self.headers.get("X-Formflow-Event"),
                                           "delivery": self.headers.get("X-Formflow-Delivery")})
                    code = owner.status
                data = b"" if code == 204 else b'{"error": "signature"}' if code == 401 else b"busy"
                self.send_response(code)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/formflow-hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
