"""OpenID Connect identity provider: the redirect to the issuer, and claims → identity (no network)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from formflow.auth.providers import IdentityError, OidcIdentityProvider, OidcSettings

METADATA = {
    "authorization_endpoint": "https://id.example.gov.cn/authorize",
    "token_endpoint": "https://id.example.gov.cn/token",
    "jwks_uri": "https://id.example.gov.cn/jwks",
}


@pytest.fixture
def provider():
    app = Flask(__name__)
    app.secret_key = "test"
    settings = OidcSettings(issuer="https://id.example.gov.cn", client_id="formflow", client_secret="s3cret",
                            id_claim="cert_no", name_claim="name")
    return app, OidcIdentityProvider(app, settings, metadata=METADATA)


def test_start_redirects_to_the_issuer_with_state(provider):
    app, oidc = provider
    with app.test_request_context("/auth/oidc/start"):
        response = oidc.start("http://127.0.0.1:5000/auth/oidc/callback")
    target = urlsplit(response.headers["Location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == METADATA["authorization_endpoint"]
    assert query["client_id"] == ["formflow"] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://127.0.0.1:5000/auth/oidc/callback"]
    assert query["state"][0] and "openid" in query["scope"][0]


def test_claims_become_a_verified_identity(provider):
    _, oidc = provider
    identity = oidc.identity_from_claims({"cert_no": "441402198803150314", "name": "陈志强"})
    assert identity.id_number == "441402198803150314" and identity.name == "陈志强"


def test_lower_case_x_is_normalised(provider):
    _, oidc = provider
    from formflow.forms.formats import id_card_check_digit

    first17 = next(f"36010219900101{n:03d}" for n in range(1000)
                   if id_card_check_digit(f"36010219900101{n:03d}") == "X")
    number = first17 + "X"
    assert oidc.identity_from_claims({"cert_no": number.lower(), "name": "李强"}).id_number == number


def test_a_claim_that_is_not_an_id_number_is_refused(provider):
    _, oidc = provider
    with pytest.raises(IdentityError, match="cert_no"):
        oidc.identity_from_claims({"cert_no": "12345", "name": "某人"})


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.delenv("FORMFLOW_OIDC_ISSUER", raising=False)
    assert OidcSettings.from_environment() is None
    monkeypatch.setenv("FORMFLOW_OIDC_ISSUER", "https://id.example.gov.cn/")
    monkeypatch.setenv("FORMFLOW_OIDC_CLIENT_ID", "formflow")
    settings = OidcSettings.from_environment()
    assert settings.issuer == "https://id.example.gov.cn" and settings.client_id == "formflow"
