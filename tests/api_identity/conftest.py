"""Fixtures: a local OIDC issuer, and the API app configured to sign in with it (and the log SMS sender)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from identity_support import MINI_PROGRAM
from oidc_issuer import CLIENT_ID, CLIENT_SECRET, Issuer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))  # api_support: the API's JSON client

from api_support import Client  # noqa: E402

TODAY = date(2026, 3, 2)


@pytest.fixture
def issuer():
    issuer = Issuer().start()
    yield issuer
    issuer.stop()


def identity_app(platform, issuer: Issuer):
    """The web app with the API, `oidc` (this issuer, ID numbers in `cert_no`) beside `demo`."""
    from formflow.app import create_app
    from formflow.config import Settings

    settings = Settings(config_root=platform.root, instance_dir=platform.instance, database_url=platform.url,
                        identity_providers=("demo", "oidc"), oidc_issuer=issuer.url, oidc_client_id=CLIENT_ID,
                        oidc_client_secret=CLIENT_SECRET, oidc_id_claim="cert_no",
                        oidc_audiences=(MINI_PROGRAM,))
    app = create_app(settings, keys=platform.keys, packset=platform.packs)
    app.config["TESTING"] = True
    services = app.extensions["formflow.services"]
    services.storage = platform.storage
    services.clock.fixed_today = lambda: TODAY
    return app


class IdentityApi:
    def __init__(self, platform, issuer: Issuer) -> None:
        self.p = platform
        self.issuer = issuer
        self.app = identity_app(platform, issuer)

    def client(self, username: str | None = None) -> Client:
        c = Client(self.app)
        if username:
            c.sign_in(username)
        return c

    def signed_in(self, response) -> Client:
        """A client holding the tokens of a 201 answer of POST /tokens."""
        assert response.status_code == 201, response.get_data(as_text=True)
        c = Client(self.app)
        c.access, c.refresh = response.json["access_token"], response.json["refresh_token"]
        return c


@pytest.fixture
def idapi(sqlite_platform, issuer) -> IdentityApi:
    return IdentityApi(sqlite_platform, issuer)


@pytest.fixture
def idapi_on_each_database(platform_db, issuer) -> IdentityApi:
    return IdentityApi(platform_db, issuer)

