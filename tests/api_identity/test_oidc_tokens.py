"""Mini-programs sign in on the API with the identity service: an authorisation code or an id_token.

Against the local issuer (oidc_issuer.py): the code is exchanged at its token
endpoint, the id_token checked against its JWKS, and the verified person is bound
to the account exactly as the web's verification binds it; the application started
under the token carries that identity.
"""

from __future__ import annotations

import time

import pytest
from identity_support import MINI_PROGRAM
from sqlalchemy import select

from formflow.db.models import Account, Application, SecurityEvent
from formflow.forms.formats import id_card_check_digit
from formflow.usecases.identity import identity_of

PACK, MATTER = "meizhou-meijiang", "public-rental-housing"
LOCALITY = "441402001001"
REDIRECT = "https://mp.example.gov.cn/oauth/callback"
_FIRST17 = "44140219950612002"
NEW_ID = _FIRST17 + id_card_check_digit(_FIRST17)  # nobody's yet
NEW_NAME = "林小芳"
CATEGORY = {"applicant_category": "low-income", "support_mode": "physical_allocation"}
CHEN = {"cert_no": "441402198803150314", "name": "陈志强"}  # mj-citizen-chen's verified identity


def code_grant(idapi, claims, *, nonce: str | None = "n-0612", headers=None, **more):
    code = idapi.issuer.code_for(claims, REDIRECT, nonce=nonce, **more)
    body = {"grant_type": "authorization_code", "provider": "oidc", "code": code, "redirect_uri": REDIRECT}
    if nonce:
        body["nonce"] = nonce
    return idapi.client().post("/tokens", body, headers=headers), code


def id_token_grant(idapi, token: str, **extra):
    return idapi.client().post("/tokens", {"grant_type": "id_token", "provider": "oidc", "id_token": token, **extra})


def security_lines(idapi, kind: str) -> list[SecurityEvent]:
    with idapi.p.sessions() as s:
        return list(s.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind).order_by(SecurityEvent.id)))


def accounts(idapi) -> int:
    with idapi.p.sessions() as s:
        return len(list(s.scalars(select(Account.id))))


def test_code_exchange_signs_in_a_new_citizen_whose_application_carries_the_identity(idapi_on_each_database):
    idapi = idapi_on_each_database
    response, code = code_grant(idapi, {"cert_no": NEW_ID, "name": NEW_NAME})
    assert response.status_code == 201, response.json
    assert response.json["token_type"] == "Bearer" and response.json["expires_in"] == 900
    # the code went to the issuer's token endpoint with the redirect_uri it was issued for
    assert idapi.issuer.token_requests[-1]["code"] == code
    assert idapi.issuer.token_requests[-1]["redirect_uri"] == REDIRECT
    c = idapi.signed_in(response)
    me = c.get("/me").json
    assert me["display_name"] == NEW_NAME and me["identity_bound"] is True
    assert me["id_number_masked"].startswith("4414") and NEW_ID not in str(me)
    assert [r["role"] for r in me["roles"]] == ["citizen"]
    # the citizen's API calls work, and the application started under the token is bound to the identity
    matter = c.get(f"/matters/{PACK}/{MATTER}").json
    assert c.post(f"/matters/{PACK}/{MATTER}/consent",
                  {"accepted": True, "agreement_version": matter["privacy"]["version"]}).status_code == 201
    draft = c.post("/drafts", {"pack": PACK, "matter": MATTER, "office_id": LOCALITY})
    assert draft.status_code == 201, draft.json
    app_id = draft.json["id"]
    step = c.patch(f"/applications/{app_id}/steps/category", {"version": draft.json["version"], "data": CATEGORY})
    assert step.status_code == 200, step.json
    with idapi.p.sessions() as s:  # the applicant's bound identity, as every channel reads it
        bound = identity_of(idapi.app.extensions["formflow.services"], s, s.get(Application, app_id))
    assert bound == {"name": NEW_NAME, "id_number": NEW_ID}
    members = {"household_size": 1, "applicant": {"name": NEW_NAME, "id_number": CHEN["cert_no"]}}
    refused = c.patch(f"/applications/{app_id}/steps/members", {"version": step.json["version"], "data": members})
    assert refused.status_code == 422 and refused.json["error"]["code"] == "identity_bound", refused.json
    assert refused.json["error"]["fields"][0]["pointer"] == "/members/applicant/id_number"
    members["applicant"]["id_number"] = NEW_ID
    kept = c.patch(f"/applications/{app_id}/steps/members", {"version": step.json["version"], "data": members})
    assert kept.status_code == 200, kept.json
    assert kept.json["data"]["members"]["applicant"]["id_number"] == NEW_ID
    # the sign-in is in the security log as the web writes it
    assert security_lines(idapi, "sign_in")[-1].detail == "oidc:authorization_code"
    assert security_lines(idapi, "token_issue")
    # a code works once
    again = idapi.client().post("/tokens", {"grant_type": "authorization_code", "provider": "oidc", "code": code,
                                            "redirect_uri": REDIRECT})
    assert again.status_code == 401 and again.json["error"]["code"] == "invalid_code"
    assert "授权码" in again.json["error"]["message"]


def test_the_same_person_again_signs_in_to_the_same_account(idapi):
    first, _code = code_grant(idapi, {"cert_no": NEW_ID, "name": NEW_NAME})
    count = accounts(idapi)
    second = id_token_grant(idapi, idapi.issuer.id_token({"cert_no": NEW_ID, "name": NEW_NAME}))
    assert second.status_code == 201
    assert accounts(idapi) == count
    assert idapi.signed_in(first).get("/me").json["id"] == idapi.signed_in(second).get("/me").json["id"]


def test_an_identity_already_bound_signs_in_to_its_account(idapi):
    response = id_token_grant(idapi, idapi.issuer.id_token(CHEN))
    assert response.status_code == 201
    assert idapi.signed_in(response).get("/me").json["username"] == "mj-citizen-chen"


def test_the_mini_programs_own_client_id_is_an_accepted_audience(idapi):
    token = idapi.issuer.id_token({"cert_no": NEW_ID, "name": NEW_NAME}, aud=MINI_PROGRAM)
    assert id_token_grant(idapi, token).status_code == 201


def test_with_a_bearer_token_the_identity_is_bound_to_the_signed_in_account(idapi):
    """A citizen signed in by password verifies with the identity service: the web's binding, on the API."""
    c = idapi.client("mj-citizen-huang")
    code = idapi.issuer.code_for({"cert_no": "441402200105200628", "name": "黄晓琳"}, REDIRECT)
    body = {"grant_type": "authorization_code", "provider": "oidc", "code": code, "redirect_uri": REDIRECT}
    ok = c.post("/tokens", body)
    assert ok.status_code == 201
    assert idapi.signed_in(ok).get("/me").json["username"] == "mj-citizen-huang"
    # another person's identity cannot be bound to it: refused, nothing changed
    code = idapi.issuer.code_for({"cert_no": NEW_ID, "name": NEW_NAME}, REDIRECT)
    refused = c.post("/tokens", {**body, "code": code})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "identity_mismatch"
    assert refused.json["error"]["message"] == "核验的身份与本账号已绑定的身份不一致"
    assert c.get("/me").json["display_name"] == "黄晓琳"


def test_an_identity_bound_to_another_account_is_not_bound_twice(idapi):
    signed = idapi.client().post("/tokens", {"username": "mj-community",
                                             "password": _password("mj-community")})
    c = idapi.signed_in(signed)
    code = idapi.issuer.code_for(CHEN, REDIRECT)
    refused = c.post("/tokens", {"grant_type": "authorization_code", "provider": "oidc", "code": code,
                                 "redirect_uri": REDIRECT})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "identity_taken"


def _password(username: str) -> str:
    from support import demo_password

    return demo_password(username)


@pytest.mark.parametrize(("change", "code", "words"), [
    ({"key": "stranger"}, "id_token_signature", "签名"),
    ({"aud": "someone-else"}, "id_token_claims", "aud"),
    ({"aud": ["someone-else", "formflow"], "azp": "someone-else"}, "id_token_claims", "azp"),
    ({"iss": "https://id.elsewhere.example"}, "id_token_claims", "iss"),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 4000}, "id_token_expired", "过期"),
    ({"exp": None}, "id_token_claims", "exp"),
    ({"nonce": "not-the-one"}, "id_token_claims", "nonce"),
])
def test_refused_id_tokens(idapi, change, code, words):
    change = dict(change)
    key = idapi.issuer.stranger if change.pop("key", None) == "stranger" else None
    token = idapi.issuer.id_token({"cert_no": NEW_ID, "name": NEW_NAME, "nonce": "the-one"}, key=key, **change)
    before = accounts(idapi)
    response = id_token_grant(idapi, token, nonce="the-one")
    assert response.status_code == 401, response.json
    error = response.json["error"]
    assert error["code"] == code and words in error["message"], error
    assert accounts(idapi) == before  # nobody was created or bound
    failed = security_lines(idapi, "sign_in_failed")[-1]
    assert failed.actor == "oidc" and failed.detail == f"id_token: {code}"


def test_a_forged_token_in_the_code_exchange_is_refused_too(idapi):
    response, _code = code_grant(idapi, {"cert_no": NEW_ID, "name": NEW_NAME}, key=idapi.issuer.stranger)
    assert response.status_code == 401 and response.json["error"]["code"] == "id_token_signature"


def test_a_code_for_another_redirect_uri_is_refused(idapi):
    code = idapi.issuer.code_for({"cert_no": NEW_ID, "name": NEW_NAME}, REDIRECT)
    response = idapi.client().post("/tokens", {"grant_type": "authorization_code", "provider": "oidc",
                                               "code": code, "redirect_uri": "https://evil.example/cb"})
    assert response.status_code == 401 and response.json["error"]["code"] == "invalid_code"


def test_a_claim_that_is_no_id_number_is_refused_naming_the_claim(idapi):
    response = id_token_grant(idapi, idapi.issuer.id_token({"cert_no": "12345", "name": NEW_NAME}))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "identity_failed" and "cert_no" in response.json["error"]["message"]


def test_unknown_provider_is_named(idapi):
    for provider in ("wechat", "demo"):  # demo verifies by name and number, not by a token
        response = idapi.client().post("/tokens", {"grant_type": "id_token", "provider": provider,
                                                   "id_token": "x.y.z"})
        assert response.status_code == 422
        error = response.json["error"]
        assert error["code"] == "unknown_provider" and provider in error["message"] and "oidc" in error["message"]
        assert error["fields"][0]["pointer"] == "/provider"


def test_each_grant_names_the_fields_it_needs(idapi):
    c = idapi.client()
    r = c.post("/tokens", {"grant_type": "authorization_code", "provider": "oidc"})
    assert r.status_code == 422
    assert {f["pointer"]: f["message"] for f in r.json["error"]["fields"]} == {"/code": "必填", "/redirect_uri": "必填"}
    r = c.post("/tokens", {"grant_type": "magic"})
    assert r.status_code == 422 and r.json["error"]["fields"][0]["pointer"] == "/grant_type"


def test_an_unreachable_identity_service_is_a_503(idapi):
    idapi.issuer.stop()
    response = id_token_grant(idapi, "a.b.c")
    assert response.status_code == 503 and response.json["error"]["code"] == "provider_unavailable"


def test_the_openapi_document_describes_the_grants(idapi):
    doc = idapi.client().get("/openapi.json").json
    post = doc["paths"]["/api/v1/tokens"]["post"]
    schema_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    grant = doc["components"]["schemas"][schema_ref]["properties"]["grant_type"]
    assert grant["enum"] == ["password", "authorization_code", "id_token", "sms"]
    assert {"401", "409", "422", "429", "503"} <= set(post["responses"])
    assert "/api/v1/tokens/sms-code" in doc["paths"]
    assert {"invalid_code", "id_token_signature", "id_token_expired", "unknown_provider", "invalid_sms_code",
            "password_required"} <= set(doc["x-error-codes"])


def test_an_identity_alone_does_not_sign_in_staff(idapi):
    """Staff bound to an identity still give their password, as with an SMS code."""
    clerk = idapi.signed_in(idapi.client().post("/tokens", {"username": "mj-community",
                                                            "password": _password("mj-community")}))
    code = idapi.issuer.code_for({"cert_no": NEW_ID, "name": "周丽华"}, REDIRECT)
    bound = clerk.post("/tokens", {"grant_type": "authorization_code", "provider": "oidc", "code": code,
                                   "redirect_uri": REDIRECT})
    assert bound.status_code == 201 and clerk.get("/me").json["identity_bound"] is True
    token = idapi.issuer.id_token({"cert_no": NEW_ID, "name": "周丽华"})
    refused = id_token_grant(idapi, token)
    assert refused.status_code == 401 and refused.json["error"]["code"] == "password_required"
    assert "密码" in refused.json["error"]["message"]
    ok = id_token_grant(idapi, token, password=_password("mj-community"))
    assert ok.status_code == 201 and idapi.signed_in(ok).get("/me").json["username"] == "mj-community"
