"""Identity providers: who a person is, verified outside the platform.

Two providers: `demo` for the embedded default (a simulated face check against
the demo e-licence records) and OpenID Connect (Authlib) for deployments,
configured by FORMFLOW_OIDC_ISSUER / _CLIENT_ID / _CLIENT_SECRET. Both end in
the same `VerifiedIdentity`; the web layer binds it to the signed-in account.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

from formflow.forms.formats import explain_cn_id_card, is_cn_id_card


@dataclass(frozen=True)
class VerifiedIdentity:
    name: str
    id_number: str
    mobile: str | None = None


class IdentityError(Exception):
    """Verification failed; the message says why, in Chinese."""


class IdentityProvider(Protocol):
    name: str
    title: str


class DemoIdentityProvider:
    """Checks a name and ID number against the demo e-licence records."""

    name = "demo"
    title = "扫脸认证（演示）"

    def __init__(self, records: dict[str, dict[str, Any]]) -> None:
        self.records = records

    def verify(self, name: str, id_number: str) -> VerifiedIdentity:
        id_number = id_number.strip().upper()
        problem = explain_cn_id_card(id_number)
        if problem:
            raise IdentityError(f"公民身份号码{problem}")
        record = self.records.get(id_number)
        card = (record or {}).get("idcard") or {}
        if not record or card.get("name") != name.strip():
            raise IdentityError("身份核验未通过：姓名与公民身份号码不匹配")
        return VerifiedIdentity(card["name"], id_number, None)


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    id_claim: str = "id_number"
    name_claim: str = "name"
    scope: str = "openid profile"

    @classmethod
    def from_environment(cls) -> OidcSettings | None:
        issuer = os.environ.get("FORMFLOW_OIDC_ISSUER")
        if not issuer:
            return None
        return cls(
            issuer=issuer.rstrip("/"),
            client_id=os.environ.get("FORMFLOW_OIDC_CLIENT_ID", ""),
            client_secret=os.environ.get("FORMFLOW_OIDC_CLIENT_SECRET", ""),
            id_claim=os.environ.get("FORMFLOW_OIDC_ID_CLAIM", "id_number"),
            name_claim=os.environ.get("FORMFLOW_OIDC_NAME_CLAIM", "name"),
        )


class OidcIdentityProvider:
    """OpenID Connect through Authlib's Flask client."""

    name = "oidc"
    title = "统一身份认证"

    def __init__(self, app: Any, settings: OidcSettings, metadata: dict[str, Any] | None = None) -> None:
        from authlib.integrations.flask_client import OAuth

        self.settings = settings
        self.oauth = OAuth(app)
        extra: dict[str, Any] = {"client_kwargs": {"scope": settings.scope}}
        if metadata is None:
            extra["server_metadata_url"] = f"{settings.issuer}/.well-known/openid-configuration"
        else:
            extra.update(
                authorize_url=metadata["authorization_endpoint"],
                access_token_url=metadata["token_endpoint"],
                jwks_uri=metadata.get("jwks_uri"),
                server_metadata_url=None,
            )
        self.client = self.oauth.register(
            "formflow_oidc", client_id=settings.client_id, client_secret=settings.client_secret, **extra
        )

    def start(self, redirect_uri: str) -> Any:
        return self.client.authorize_redirect(redirect_uri)

    def finish(self) -> VerifiedIdentity:
        token = self.client.authorize_access_token()
        return self.identity_from_claims(token.get("userinfo") or {})

    def identity_from_claims(self, claims: dict[str, Any]) -> VerifiedIdentity:
        id_number = str(claims.get(self.settings.id_claim) or "").upper()
        if not is_cn_id_card(id_number):
            raise IdentityError(f"身份认证返回的声明 {self.settings.id_claim!r} 不是有效的公民身份号码")
        return VerifiedIdentity(str(claims.get(self.settings.name_claim) or ""), id_number,
                                claims.get("phone_number"))
