"""Local stand-ins of Alibaba Cloud SMS and Tencent Cloud SMS, on 127.0.0.1, for the SDKs' endpoint override.

Each parses the request the official SDK sends, verifies its signature with the
key pair it knows (ACS3-HMAC-SHA256, TC3-HMAC-SHA256) and answers as the real API
does: success, a business error (rate control, …), or an authentication failure.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class StandIn:
    """A server in a thread; `received` holds each parsed request, `answers` the next answers to give."""

    content_type = "application/json;charset=utf-8"

    def __init__(self, keys: dict[str, str]) -> None:
        self.keys = keys
        self.received: list[dict[str, Any]] = []
        self.answers: list[str] = []
        self.refused: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = owner.answer(self.command, self.path, dict(self.headers), body)
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", owner.content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def next_answer(self) -> str:
        return self.answers.pop(0) if self.answers else "ok"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError


class AliyunSms(StandIn):
    """dysmsapi 2017-05-25 SendSms, RPC style: parameters in the query, ACS3-HMAC-SHA256 signature."""

    def signature_problem(self, method: str, path: str, headers: dict[str, str], body: bytes) -> str | None:
        lower = {k.lower(): v for k, v in headers.items()}
        auth = lower.get("authorization", "")
        if not auth.startswith("ACS3-HMAC-SHA256 ") or "x-acs-signature-nonce" not in lower:
            return "MissingSignature"
        fields = dict(part.split("=", 1) for part in auth[len("ACS3-HMAC-SHA256 "):].split(","))
        secret = self.keys.get(fields.get("Credential", ""))
        if secret is None:
            return "InvalidAccessKeyId.NotFound"
        url = urlsplit(path)
        query = sorted(parse_qsl(url.query, keep_blank_values=True))
        canonical_query = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in query)
        signed = fields.get("SignedHeaders", "").split(";")
        canonical_headers = "".join(f"{name}:{lower.get(name, '').strip()}\n" for name in signed)
        canonical = "\n".join([method, url.path or "/", canonical_query, canonical_headers, ";".join(signed),
                               lower.get("x-acs-content-sha256", _sha(body))])
        expected = hmac.new(secret.encode(), f"ACS3-HMAC-SHA256\n{_sha(canonical.encode())}".encode(),
                            hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(expected, fields.get("Signature", "")) else "IncompleteSignature"

    def answer(self, method, path, headers, body):
        request_id = uuid.uuid4().hex.upper()
        problem = self.signature_problem(method, path, headers, body)
        if problem is not None:
            self.refused.append(problem)
            return 400, {"Code": problem, "Message": "The request signature does not conform to Aliyun standards.",
                         "RequestId": request_id}
        params = dict(parse_qsl(urlsplit(path).query))
        self.received.append({"action": headers.get("x-acs-action"), **params})
        mode = self.next_answer()
        if mode == "limit":
            return 200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1",
                         "RequestId": request_id}
        return 200, {"Code": "OK", "Message": "OK", "BizId": f"{len(self.received)}^0", "RequestId": request_id}


class TencentSms(StandIn):
    """sms 2021-01-11 SendSms: a JSON body, X-TC-* headers, TC3-HMAC-SHA256 signature."""

    content_type = "application/json"

    def signature_problem(self, headers: dict[str, str], body: bytes) -> str | None:
        lower = {k.lower(): v for k, v in headers.items()}
        auth = lower.get("authorization", "")
        if not auth.startswith("TC3-HMAC-SHA256 ") or "x-tc-timestamp" not in lower:
            return "AuthFailure.SignatureFailure"
        fields = dict(part.strip().split("=", 1) for part in auth[len("TC3-HMAC-SHA256 "):].split(","))
        secret_id, _sep, scope = fields.get("Credential", "").partition("/")
        secret = self.keys.get(secret_id)
        if secret is None:
            return "AuthFailure.SecretIdNotFound"
        signed = fields.get("SignedHeaders", "").split(";")
        canonical = "\n".join(["POST", "/", "", "".join(f"{name}:{lower.get(name, '').strip()}\n" for name in signed),
                               ";".join(signed), _sha(body)])
        stamp = lower["x-tc-timestamp"]
        day = datetime.fromtimestamp(int(stamp), UTC).strftime("%Y-%m-%d")
        to_sign = f"TC3-HMAC-SHA256\n{stamp}\n{scope}\n{_sha(canonical.encode())}"
        key = _hmac(_hmac(_hmac(("TC3" + secret).encode(), day), "sms"), "tc3_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(expected, fields.get("Signature", "")) else "AuthFailure.SignatureFailure"

    def answer(self, method, path, headers, body):
        request_id = str(uuid.uuid4())
        problem = self.signature_problem(headers, body)
        if problem is not None:
            self.refused.append(problem)
            return 200, {"Response": {"Error": {"Code": problem, "Message": "The provided credentials could not "
                                                "be validated."}, "RequestId": request_id}}
        params = json.loads(body)
        self.received.append({"action": headers.get("X-TC-Action"), **params})
        mode = self.next_answer()
        status = {"Code": "Ok", "Message": "send success", "SerialNo": f"2433:{len(self.received)}", "Fee": 1}
        if mode == "limit":
            status = {"Code": "LimitExceeded.PhoneNumberThirtySecondLimit",
                      "Message": "the number of sms messages sent from a single mobile number within 30 seconds "
                                 "exceeds the upper limit", "SerialNo": "", "Fee": 0}
        phone = params["PhoneNumberSet"][0]
        return 200, {"Response": {"SendStatusSet": [{"PhoneNumber": phone, "SessionContext": params.get(
            "SessionContext", ""), "IsoCode": "CN", **status}], "RequestId": request_id}}
