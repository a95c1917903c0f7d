"""Tokens (sign-in, refresh, logout), the signed-in account, identity verification."""

from __future__ import annotations

from flask import current_app, request
from sqlalchemy import select

from formflow.api import schemas as s
from formflow.api import tokens
from formflow.api.common import current_account, keys, masked_identity, role_title, sessions
from formflow.api.errors import ApiError, load_body
from formflow.api.routing import route
from formflow.auth import throttle
from formflow.db.models import Account
from formflow.text.catalogue import _, lazy
from formflow.web.context import services

TAG = lazy("Tokens and account")


def _address() -> str:
    return request.remote_addr or "unknown"


def _pair(pair: tokens.TokenPair) -> dict:
    return s.TokenPairSchema().dump(pair.__dict__)


@route("/tokens", "POST", summary=lazy("Sign in: exchange account and password for an access and a refresh token"),
       tags=[TAG], auth=False, body=s.TokenRequestSchema, responses={201: s.TokenPairSchema}, errors=(401, 429),
       description=lazy("The same throttling as the web sign-in: five failures of an account from one address "
                        "within 15 minutes pause it there; 20 failures of an account from anywhere lock it."))
def create_token():
    """Password sign-in, throttled like the web's."""
    body = load_body(s.TokenRequestSchema())
    username, password = body["username"].strip(), body["password"]
    secret = current_app.config["SECRET_KEY"]
    with sessions().begin() as db:
        account, refusal = throttle.password_sign_in(db, username, password, _address())
        if account is not None:
            return _pair(tokens.issue(db, secret, account, address=_address())), 201
    # the failure is committed above; now refuse
    if refusal is not None:
        raise ApiError(429, "throttled", refusal)
    raise ApiError(401, "invalid_credentials")


@route("/tokens/refresh", "POST",
       summary=lazy("Exchange a refresh token for a new pair of tokens (the refresh token rotates)"), tags=[TAG],
       auth=False, body=s.RefreshRequestSchema, responses={201: s.TokenPairSchema}, errors=(401,),
       description=lazy("Each refresh token can be used once; showing a used refresh token again ends the whole "
                        "sign-in (it is taken as leaked)."))
def refresh_token():
    """Rotate a refresh token; a reused one revokes its family."""
    body = load_body(s.RefreshRequestSchema())
    secret = current_app.config["SECRET_KEY"]
    failure: ApiError | None = None
    with sessions().begin() as db:
        try:
            pair = tokens.rotate(db, secret, body["refresh_token"], address=_address())
        except ApiError as exc:  # keep the revocation of a reused family: commit, then refuse
            failure = exc
    if failure is not None:
        raise failure
    return _pair(pair), 201


@route("/tokens/revoke", "POST", summary=lazy("Sign out: revoke the refresh token (and the access tokens it issued)"),
       tags=[TAG], auth=False, body=s.RefreshRequestSchema, responses={204: None})
def revoke_token():
    body = load_body(s.RefreshRequestSchema())
    with sessions().begin() as db:
        tokens.revoke(db, body["refresh_token"], address=_address())
    return "", 204


def account_view(account: Account) -> dict:
    offices = {r.office_id: r.office for r in account.roles}
    roles = []
    for r in account.roles:
        office = offices.get(r.office_id)
        roles.append({"role": r.role, "title": role_title(r.role, r.pack or (office.pack if office else None)),
                      "office_id": r.office_id, "office_name": office.name if office else None})
    return s.AccountSchema().dump({
        "id": account.id, "username": account.username, "display_name": account.display_name,
        "roles": roles,
        "identity_bound": bool(account.id_number_enc),
        "id_number_masked": masked_identity(account) or None,
    })


@route("/me", "GET", summary=lazy("The signed-in account: name, roles and offices, identity verified or not"),
       tags=[TAG],
       responses={200: s.AccountSchema})
def me():
    return account_view(current_account())


@route("/me/identity", "POST", summary=lazy("Identity verification (the same service as the web's)"), tags=[TAG],
       body=s.IdentityRequestSchema, responses={200: s.AccountSchema}, errors=(403, 409),
       description=lazy("Once verified, the identity is bound to the account (it cannot change afterwards); an "
                        "application draft needs a verified identity."))
def verify_identity():
    """Verify and bind the account's identity."""
    from formflow.auth.providers import IdentityError

    account = current_account()
    body = load_body(s.IdentityRequestSchema())
    if not body["consent"]:
        raise ApiError(403, "consent_required", _("You withdrew your consent, so your identity cannot be verified"))
    demo = services().identity.get("demo")
    if demo is None:
        raise ApiError(403, "identity_unavailable", _("No identity verification service is configured for the API; "
                                                     "please use the unified identity service on the web"))
    try:
        identity = demo.verify(body["name"], body["id_number"])
    except IdentityError as exc:
        raise ApiError(422, exc.code, exc.message) from None
    digest = keys().lookup(identity.id_number)
    with sessions().begin() as db:
        row = db.get(Account, account.id)
        if row.id_number_hash and row.id_number_hash != digest:
            raise ApiError(409, "identity_mismatch",
                           _("The verified identity differs from the one bound to this account"))
        other = db.scalar(select(Account).where(Account.id_number_hash == digest, Account.id != account.id))
        if other is not None:
            raise ApiError(409, "identity_taken",
                           _("This identity is bound to another account; please sign in with that account"))
        row.id_number_hash = digest
        row.id_number_enc = keys().seal(identity.id_number)
        row.display_name = identity.name or row.display_name
        db.flush()
        _roles = [(r.role, r.office) for r in row.roles]
        db.expunge_all()
    return account_view(row)
