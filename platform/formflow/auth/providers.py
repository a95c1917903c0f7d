"""Identity providers: who a person is, verified outside the platform.

Two providers ship, registered in `identity_providers` (see `formflow.plugins`):
`demo` for the embedded default (a simulated face check against the demo
e-licence records; only when the demo is loaded) and `oidc`, OpenID Connect
through Authlib, configured by FORMFLOW_OIDC_ISSUER / _CLIENT_ID /
_CLIENT_SECRET (and _ID_CLAIM / _NAME_CLAIM). `FORMFLOW_IDENTITY_PROVIDERS`
chooses which are offered. Both end in the same `VerifiedIdentity`; the web
layer binds it to the signed-in account.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast
from urllib.parse import urlsplit

from formflow.forms.formats import explain_cn_id_card, is_cn_id_card
from formflow.plugins import Registry
from formflow.text.catalogue import _, lazy
from formflow.text.errors import Refusal

if TYPE_CHECKING:
    from formflow.packs.loader import PackSet

SETTING = "FORMFLOW_IDENTITY_PROVIDERS"
#: seconds a request to the identity service may take (discovery, token endpoint, JWKS)
TIMEOUT = 10
#: seconds of clock difference allowed when checking an id_token's exp, iat and nbf
LEEWAY = 60
#: the signature algorithms an id_token may use (public keys from the JWKS; never "none" or a shared secret)
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
identity_providers: Registry[Any] = Registry(lazy("identity provider"), SETTING)


@dataclass(frozen=True)
class VerifiedIdentity:
    name: str
    id_number: str
    mobile: str | None = None


class IdentityError(Refusal):
    """Verification failed; the message says why."""

    code = "identity_failed"
    status = 422


class TokenRefused(IdentityError):
    """The identity service's authorisation code or id_token was not accepted (sign-in by the API)."""

    code = "invalid_id_token"
    status = 401


class IdentityProvider(Protocol):
    name: str
    title: str


@identity_providers.register("demo")
class DemoIdentityProvider:
    """Checks a name and ID number against the demo e-licence records."""

    name = "demo"
    title = lazy("Face check (demo)")

    def __init__(self, records: dict[str, dict[str, Any]]) -> None:
        self.records = records

    @classmethod
    def check(cls, settings: Any) -> list[str]:
        if getattr(settings, "load_demo", True):
            return []
        return [_("%(setting)s offers the demo identity check, which only a demo deployment has "
                  "(FORMFLOW_DEMO=1)", setting=SETTING)]

    @classmethod
    def from_settings(cls, settings: Any, *, packs: PackSet, **_context: Any) -> DemoIdentityProvider:
        """The records of every pack's demo e-licences (`seeds/<pack>/elicences.yaml`), by ID number."""
        records: dict[str, dict[str, Any]] = {}
        for pack in packs.packs.values():
            for record in (pack.elicences.content if pack.elicences else {}).get("records") or []:
                records[str(record["id_number"]).upper()] = record
        return cls(records)

    def verify(self, name: str, id_number: str) -> VerifiedIdentity:
        id_number = id_number.strip().upper()
        problem = explain_cn_id_card(id_number)
        if problem:
            raise IdentityError(_("Resident ID number %(reason)s", reason=problem))
        record = self.records.get(id_number)
        card = (record or {}).get("idcard") or {}
        if not record or card.get("name") != name.strip():
            raise IdentityError(_("Identity not verified: the name does not match the citizen ID number"))
        return VerifiedIdentity(card["name"], id_number, None)


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    id_claim: str = "id_number"
    name_claim: str = "name"
    scope: str = "openid profile"
    #: client ids besides `client_id` an id_token may be issued to (a mini-program's or an app's own).
    audiences: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Any) -> OidcSettings:
        return cls(issuer=settings.oidc_issuer.rstrip("/"), client_id=settings.oidc_client_id,
                   client_secret=settings.oidc_client_secret, id_claim=settings.oidc_id_claim,
                   name_claim=settings.oidc_name_claim,
                   audiences=tuple(getattr(settings, "oidc_audiences", ()) or ()))

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
            audiences=tuple(a for a in os.environ.get("FORMFLOW_OIDC_AUDIENCES", "").replace(",", " ").split() if a),
        )


@identity_providers.register("oidc")
class OidcIdentityProvider:
    """OpenID Connect through Authlib's Flask client.

    Given no app, the client is bound to the running app at its first use (the
    services build providers before any request)."""

    name = "oidc"
    title = lazy("Unified identity authentication")

    def __init__(self, app: Any, settings: OidcSettings, metadata: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.metadata = metadata
        self._client: Any = None
        self._lock = threading.Lock()
        if app is not None:
            self._bind(app)

    @classmethod
    def check(cls, settings: Any) -> list[str]:
        problems = []
        issuer = getattr(settings, "oidc_issuer", "")
        if not issuer:
            problems.append(_("FORMFLOW_OIDC_ISSUER is not set: unified identity authentication (OIDC) needs "
                              "the address of the identity service"))
        else:
            parts = urlsplit(issuer)
            if parts.scheme not in ("https", "http") or not parts.netloc:
                problems.append(_("FORMFLOW_OIDC_ISSUER \"%(value)s\" is not an https:// address",
                                  value=issuer))
        for setting, value in (("FORMFLOW_OIDC_CLIENT_ID", getattr(settings, "oidc_client_id", "")),
                               ("FORMFLOW_OIDC_CLIENT_SECRET", getattr(settings, "oidc_client_secret", ""))):
            if not value:
                problems.append(_("%(setting)s is not set: the identity service issued it when formflow was "
                                  "registered", setting=setting))
        return problems

    @classmethod
    def from_settings(cls, settings: Any, **_context: Any) -> OidcIdentityProvider:
        return cls(None, OidcSettings.from_settings(settings))

    def _bind(self, app: Any) -> Any:
        from authlib.integrations.flask_client import OAuth

        settings = self.settings
        self.oauth = OAuth(app)
        extra: dict[str, Any] = {"client_kwargs": {"scope": settings.scope, "default_timeout": TIMEOUT}}
        if self.metadata is None:
            extra["server_metadata_url"] = f"{settings.issuer}/.well-known/openid-configuration"
        else:
            extra.update(
                authorize_url=self.metadata["authorization_endpoint"],
                access_token_url=self.metadata["token_endpoint"],
                jwks_uri=self.metadata.get("jwks_uri"),
                server_metadata_url=None,
            )
        self._client = self.oauth.register(
            "formflow_oidc", client_id=settings.client_id, client_secret=settings.client_secret, **extra
        )
        return self._client

    @property
    def client(self) -> Any:
        if self._client is None:
            from flask import current_app

            with self._lock:
                if self._client is None:
                    self._bind(current_app._get_current_object())  # type: ignore[attr-defined]
        return self._client

    def start(self, redirect_uri: str) -> Any:
        return self.client.authorize_redirect(redirect_uri)

    def finish(self) -> VerifiedIdentity:
        token = self.client.authorize_access_token()
        return self.identity_from_claims(token.get("userinfo") or {})

    def identity_from_claims(self, claims: dict[str, Any]) -> VerifiedIdentity:
        id_number = str(claims.get(self.settings.id_claim) or "").upper()
        if not is_cn_id_card(id_number):
            raise IdentityError(_("The claim %(claim)s returned by the identity service is not a valid citizen "
                                  "ID number", claim=repr(self.settings.id_claim)))
        return VerifiedIdentity(str(claims.get(self.settings.name_claim) or ""), id_number,
                                claims.get("phone_number"))

    # ------------------------------------------------------------------ the API: code exchange, id_token check

    def exchange_code(self, code: str, redirect_uri: str, *, code_verifier: str | None = None,
                      nonce: str | None = None) -> VerifiedIdentity:
        """Exchange an authorisation code at the token endpoint; the identity of its verified id_token."""
        from authlib.common.errors import AuthlibBaseError
        from requests import RequestException

        params: dict[str, Any] = {"code": code}
        if code_verifier:
            params["code_verifier"] = code_verifier
        try:
            self._metadata()
            token = self.client.fetch_access_token(redirect_uri=redirect_uri, **params)
        except TokenRefused:
            raise
        except AuthlibBaseError:
            raise TokenRefused(_("The identity service did not accept the authorisation code (it is wrong, "
                                 "already used or expired); please sign in again"), code="invalid_code") from None
        except (RequestException, ValueError):
            raise self._unavailable() from None
        id_token = token.get("id_token") if isinstance(token, dict) else None
        if not isinstance(id_token, str) or not id_token:
            raise TokenRefused(_("The identity service answered without an id_token"))
        return self.verify_id_token(id_token, nonce=nonce)

    def verify_id_token(self, id_token: str, *, nonce: str | None = None) -> VerifiedIdentity:
        """The identity in an id_token, once its signature (JWKS), iss, aud, exp and nonce (if given) hold."""
        return self.identity_from_claims(self.id_token_claims(id_token, nonce=nonce))

    def id_token_claims(self, id_token: str, *, nonce: str | None = None) -> dict[str, Any]:
        from joserfc import jwt
        from joserfc.errors import (
            BadSignatureError,
            ExpiredTokenError,
            InvalidKeyIdError,
            JoseError,
            MissingKeyError,
            UnsupportedAlgorithmError,
        )
        from joserfc.jwk import KeySet
        from joserfc.jws import JWSRegistry

        metadata = self._metadata()
        offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in offered if a in ID_TOKEN_ALGORITHMS] or ["RS256"]
        signature = TokenRefused(_("The signature of the id_token is not valid: it was not issued by the "
                                   "identity service"), code="id_token_signature")
        decoded = None
        for force in (False, True):  # an unknown key id: the service may have rotated its keys, fetch again
            try:
                keys = KeySet.import_key_set(cast(Any, self._jwks(force)))
            except (JoseError, ValueError, TypeError, KeyError):
                raise self._unavailable() from None
            try:
                decoded = jwt.decode(id_token, keys, registry=JWSRegistry(algorithms=algorithms))
                break
            except (InvalidKeyIdError, MissingKeyError):
                continue
            except (BadSignatureError, UnsupportedAlgorithmError):
                raise signature from None
            except (JoseError, ValueError, TypeError):
                raise TokenRefused(_("The id_token is malformed")) from None
        if decoded is None:
            raise signature
        claims = dict(decoded.claims)
        audiences = [self.settings.client_id, *self.settings.audiences]
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": metadata.get("issuer") or self.settings.issuer},
            "aud": {"essential": True, "values": audiences},
            "sub": {"essential": True}, "exp": {"essential": True}, "iat": {"essential": True},
        }
        if nonce:
            options["nonce"] = {"essential": True, "value": nonce}
        try:
            jwt.JWTClaimsRegistry(leeway=LEEWAY, **options).validate(claims)
        except ExpiredTokenError:
            raise TokenRefused(_("The id_token has expired; please sign in again"), code="id_token_expired") from None
        except JoseError as exc:
            raise self._claim_refused(str(getattr(exc, "claim", "") or "")) from None
        aud = claims.get("aud")
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") not in audiences:
            raise self._claim_refused("azp")
        return claims

    @staticmethod
    def _claim_refused(claim: str) -> TokenRefused:
        return TokenRefused(_("The id_token was not issued for this service: its claim %(claim)s does not match",
                              claim=claim or "?"), code="id_token_claims")

    @staticmethod
    def _unavailable() -> TokenRefused:
        return TokenRefused(_("The identity service cannot be reached; please try again later"),
                            code="provider_unavailable", status=503)

    def _metadata(self) -> dict[str, Any]:
        from requests import RequestException

        try:
            return dict(self.client.load_server_metadata())
        except (RequestException, ValueError):
            raise self._unavailable() from None

    def _jwks(self, force: bool) -> dict[str, Any]:
        from requests import RequestException

        try:
            found = self.client.fetch_jwk_set(force=force)
        except (RequestException, ValueError, RuntimeError):
            raise self._unavailable() from None
        if not isinstance(found, dict):
            raise self._unavailable()
        return found
