"""A local OpenID Connect issuer for tests: discovery, JWKS and a token endpoint on 127.0.0.1.

It plays the part of a provincial identity platform (the code a mini-program gets
after the person confirms on the platform): `code_for(claims)` stands for the
person's confirmation and returns the authorisation code; `id_token(claims)` signs
an id_token directly. Tokens are RS256, signed with the issuer's own key (`key`);
`stranger` is a key of nobody's, for forged signatures.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "formflow"
CLIENT_SECRET = "s3cret-client"


class Issuer:
    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "issuer-1", "use": "sig", "alg": "RS256"},
                                       private=True)
        self.stranger = RSAKey.generate_key(2048, parameters={"kid": "issuer-1"}, private=True)
        self.codes: dict[str, dict[str, Any]] = {}
        self.token_requests: list[dict[str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Issuer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ what the issuer hands out

    def claims(self, **claims: Any) -> dict[str, Any]:
        now = int(time.time())
        base: dict[str, Any] = {"iss": self.url, "aud": CLIENT_ID, "sub": f"sub-{secrets.token_hex(4)}",
                                "iat": now, "exp": now + 300}
        base.update(claims)
        return {k: v for k, v in base.items() if v is not None}

    def id_token(self, claims: dict[str, Any] | None = None, *, key: RSAKey | None = None, **more: Any) -> str:
        """A signed id_token of `claims` (plus the standard ones; a claim given as None is left out)."""
        key = key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, self.claims(**{**(claims or {}), **more}), key)

    def code_for(self, claims: dict[str, Any], redirect_uri: str, **more: Any) -> str:
        """The person confirmed on the platform: a one-time authorisation code for `redirect_uri`."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"redirect_uri": redirect_uri, "id_token": self.id_token(claims, **more)}
        return code

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        """The token endpoint: a code once, for its redirect_uri, to this client only."""
        self.token_requests.append(dict(form))
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization.startswith("Basic "):
            client_id, _sep, client_secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        issued = self.codes.pop(form.get("code", ""), None)
        if issued is None or issued["redirect_uri"] != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant", "error_description": "code unknown, used or for another uri"}
        return 200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                     "id_token": issued["id_token"]}


def _handler(issuer: Issuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            return None

        def _send(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path == "/.well-known/openid-configuration":
                self._send(200, issuer.metadata())
            elif self.path == "/jwks":
                self._send(200, {"keys": [issuer.key.as_dict(private=False)]})
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:  # noqa: N802
            if self.path != "/token":
                self._send(404, {"error": "not_found"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            self._send(*issuer.token(form, self.headers.get("Authorization", "")))

    return Handler
