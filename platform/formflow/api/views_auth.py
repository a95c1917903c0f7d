"""Tokens (sign-in by password, identity service or SMS code; refresh, logout), the account, identity."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from formflow.api import schemas as s
from formflow.api import tokens
from formflow.api.common import bearer_token, current_account, keys, masked_identity, role_title, sessions
from formflow.api.errors import ApiError, load_body
from formflow.api.routing import route
from formflow.auth import seclog, sms, throttle
from formflow.auth.providers import IdentityError
from formflow.db.models import Account
from formflow.forms.formats import is_cn_mobile, mask_mobile
from formflow.text.catalogue import _, lazy
from formflow.usecases.identity import IdentityConflict, account_for_identity, bind_account_identity
from formflow.web.context import services

TAG = lazy("Tokens and account")


def _address() -> str:
    return request.remote_addr or "unknown"


def _pair(pair: tokens.TokenPair) -> dict:
    return s.TokenPairSchema().dump(pair.__dict__)


@route("/tokens", "POST", summary=lazy("Sign in: exchange a password, an identity service's code or id_token, or "
                                       "an SMS code for an access and a refresh token"),
       tags=[TAG], auth=False, body=s.TokenRequestSchema, responses={201: s.TokenPairSchema},
       errors=(401, 409, 429, 503),
       description=lazy("grant_type password (the default): the same throttling as the web sign-in: five failures of "
                        "an account from one address within 15 minutes pause it there; 20 failures of an account "
                        "from anywhere lock it. grant_type authorization_code or id_token: the identity service's "
                        "id_token is verified (signature by its JWKS, iss, aud, exp, the nonce if given) and the "
                        "verified name and ID number are bound to the account (a new citizen account for a new "
                        "person; with a bearer token, the signed-in account). grant_type sms: the code from POST "
                        "/api/v1/tokens/sms-code. A code or an identity alone signs in citizens only: staff "
                        "accounts give their password as well."))
def create_token():
    """Sign-in by password, identity service or SMS code, throttled like the web's."""
    body = load_body(s.TokenRequestSchema())
    grant = body.get("grant_type") or "password"
    if grant == "sms":
        return _sms_grant(body)
    if grant in ("authorization_code", "id_token"):
        return _identity_grant(grant, body)
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


def _sms_grant(body: dict[str, Any]) -> Any:
    """The web's SMS-code sign-in (`auth.sms.sign_in_with_code`), answered with tokens."""
    mobile = body["mobile"].strip()
    if not is_cn_mobile(mobile):
        raise ApiError(422, fields=[("/mobile", _("The mobile number is not valid"))])
    secret = current_app.config["SECRET_KEY"]
    with sessions().begin() as db:
        result = sms.sign_in_with_code(db, keys(), mobile, body["code"].strip()[:10], body.get("password", ""),
                                       address=_address())
        if result.account is not None:
            return _pair(tokens.issue(db, secret, result.account, address=_address())), 201
    # the failure is committed above; now refuse
    if result.reason == "paused":
        raise ApiError(429, "throttled", result.refusal)
    if result.reason == "password_required":
        raise ApiError(401, "password_required", result.refusal)
    raise ApiError(401, "invalid_sms_code", result.refusal)


def _identity_provider(name: str) -> Any:
    """A configured identity provider that signs in on the API (it verifies id_tokens); 422 otherwise."""
    chosen = services().identity
    usable = sorted(n for n, p in chosen.items() if hasattr(p, "verify_id_token"))
    if name not in usable:
        message = _("Unknown identity provider \"%(provider)s\"; the API signs in with: %(names)s", provider=name,
                    names=", ".join(usable) or "-")
        raise ApiError(422, "unknown_provider", message, fields=[("/provider", message)])
    return chosen[name]


def _identity_grant(grant: str, body: dict[str, Any]) -> Any:
    """Sign in with a verified identity: bound to the account as the web's verification binds it."""
    provider = _identity_provider(body["provider"])
    signed_in = current_account() if bearer_token() is not None else None
    address = _address()
    try:  # the identity service first, outside any transaction
        if grant == "authorization_code":
            identity = provider.exchange_code(body["code"], body["redirect_uri"],
                                              code_verifier=body.get("code_verifier"), nonce=body.get("nonce"))
        else:
            identity = provider.verify_id_token(body["id_token"], nonce=body.get("nonce"))
    except IdentityError as exc:
        with sessions().begin() as db:
            seclog.record(db, seclog.SIGN_IN_FAILED, actor=db.get(Account, signed_in.id) if signed_in else None,
                          actor_name=provider.name, address=address, detail=f"{grant}: {exc.code}")
        raise
    secret = current_app.config["SECRET_KEY"]
    refusal: Exception | None = None
    with sessions().begin() as db:
        try:
            if signed_in is not None:
                account = bind_account_identity(keys(), db, db.get_one(Account, signed_in.id), identity)
            else:
                account = account_for_identity(keys(), db, identity)
        except IdentityConflict as exc:  # nothing was bound
            seclog.record(db, seclog.SIGN_IN_FAILED, actor_name=provider.name, address=address,
                          detail=f"{grant}: {exc.code}")
            refusal = exc
        else:
            if signed_in is None and not sms.second_factor_ok(account, ""):  # staff: their password as well
                paused = throttle.refusal_for(db, account.username, address)
                if paused is not None:
                    seclog.record(db, seclog.SIGN_IN_FAILED, actor=account, address=address, detail="paused")
                    refusal = ApiError(429, "throttled", paused)
                elif not sms.second_factor_ok(account, body.get("password", "")):
                    throttle.record_failure(db, account, address, account.username)
                    refusal = ApiError(401, "password_required", _("Staff accounts sign in with their password and "
                                                                   "an identity or SMS code together"))
            if refusal is None:
                throttle.record_success(db, account, address, f"{provider.name}:{grant}")
                return _pair(tokens.issue(db, secret, account, address=address)), 201
    assert refusal is not None
    raise refusal


@route("/tokens/sms-code", "POST", summary=lazy("Send a sign-in code by SMS (for grant_type sms)"), tags=[TAG],
       auth=False, body=s.SmsCodeRequestSchema, responses={202: s.SmsCodeSentSchema}, errors=(429,),
       description=lazy("The same limits as the web: at most one code a minute, five an hour and ten a day per "
                        "number and per address; a code is valid 5 minutes and for one sign-in."))
def send_sms_code():
    """Send a sign-in code through the SMS sender (`auth.sms.issue_code`)."""
    body = load_body(s.SmsCodeRequestSchema())
    mobile = body["mobile"].strip()
    if not is_cn_mobile(mobile):
        raise ApiError(422, fields=[("/mobile", _("The mobile number is not valid"))])
    with sessions().begin() as db:
        refusal = sms.issue_code(db, services().sms, mobile, keys().lookup(mobile), address=_address())
    if refusal is not None:
        raise ApiError(429, "throttled", refusal)
    return s.SmsCodeSentSchema().dump({
        "mobile_masked": mask_mobile(mobile), "expires_in": int(sms.CODE_TTL.total_seconds()),
        "resend_after": int(sms.RESEND_AFTER.total_seconds())}), 202


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
    with sessions().begin() as db:  # the one binding of the web and the API (usecases.identity)
        row = bind_account_identity(keys(), db, db.get_one(Account, account.id), identity)
        db.flush()
        _roles = [(r.role, r.office) for r in row.roles]
        db.expunge_all()
    return account_view(row)
