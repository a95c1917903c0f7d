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
from formflow.web.context import services

TAG = "令牌与账号"


def _address() -> str:
    return request.remote_addr or "unknown"


def _pair(pair: tokens.TokenPair) -> dict:
    return s.TokenPairSchema().dump(pair.__dict__)


@route("/tokens", "POST", summary="登录：以账号密码换取访问令牌和刷新令牌", tags=[TAG], auth=False,
       body=s.TokenRequestSchema, responses={201: s.TokenPairSchema}, errors=(401, 429))
def create_token():
    """与网页登录相同的限流：同一账号连续失败 5 次锁定 15 分钟，同一地址 15 分钟内失败 20 次暂停。"""
    body = load_body(s.TokenRequestSchema())
    username, password = body["username"].strip(), body["password"]
    secret = current_app.config["SECRET_KEY"]
    with sessions().begin() as db:
        account, refusal = throttle.password_sign_in(db, username, password, _address())
        if account is not None:
            return _pair(tokens.issue(db, secret, account)), 201
    # the failure is committed above; now refuse
    if refusal is not None:
        raise ApiError(429, "throttled", refusal)
    raise ApiError(401, "invalid_credentials")


@route("/tokens/refresh", "POST", summary="以刷新令牌换取新的一对令牌（刷新令牌随之轮换）", tags=[TAG], auth=False,
       body=s.RefreshRequestSchema, responses={201: s.TokenPairSchema}, errors=(401,))
def refresh_token():
    """每个刷新令牌只能使用一次；再次出示已使用的刷新令牌将注销整个登录（视为泄露）。"""
    body = load_body(s.RefreshRequestSchema())
    secret = current_app.config["SECRET_KEY"]
    failure: ApiError | None = None
    with sessions().begin() as db:
        try:
            pair = tokens.rotate(db, secret, body["refresh_token"])
        except ApiError as exc:  # keep the revocation of a reused family: commit, then refuse
            failure = exc
    if failure is not None:
        raise failure
    return _pair(pair), 201


@route("/tokens/revoke", "POST", summary="退出登录：撤销刷新令牌（及其签发的访问令牌）", tags=[TAG], auth=False,
       body=s.RefreshRequestSchema, responses={204: None})
def revoke_token():
    body = load_body(s.RefreshRequestSchema())
    with sessions().begin() as db:
        tokens.revoke(db, body["refresh_token"])
    return "", 204


def account_view(account: Account) -> dict:
    offices = {r.office_id: r.office for r in account.roles}
    return s.AccountSchema().dump({
        "id": account.id, "username": account.username, "display_name": account.display_name,
        "roles": [{"role": r.role, "title": role_title(r.role, r.pack or (offices[r.office_id].pack
                                                                          if offices.get(r.office_id) else None)),
                   "office_id": r.office_id, "office_name": offices[r.office_id].name if offices.get(r.office_id)
                   else None} for r in account.roles],
        "identity_bound": bool(account.id_number_enc),
        "id_number_masked": masked_identity(account) or None,
    })


@route("/me", "GET", summary="当前账号：姓名、角色与机构、是否已实名核验", tags=[TAG],
       responses={200: s.AccountSchema})
def me():
    return account_view(current_account())


@route("/me/identity", "POST", summary="实名核验（与网页相同的身份核验服务）", tags=[TAG],
       body=s.IdentityRequestSchema, responses={200: s.AccountSchema}, errors=(403, 409))
def verify_identity():
    """核验通过后身份与账号绑定（一经绑定不能更改）；申请草稿需要已核验的身份。"""
    from formflow.auth.providers import IdentityError

    account = current_account()
    body = load_body(s.IdentityRequestSchema())
    if not body["consent"]:
        raise ApiError(403, "consent_required", "您已取消授权，无法进行身份核验")
    demo = services().identity.get("demo")
    if demo is None:
        raise ApiError(403, "identity_unavailable", "未配置可通过接口使用的身份核验服务，请在网页使用统一身份认证")
    try:
        identity = demo.verify(body["name"], body["id_number"])
    except IdentityError as exc:
        raise ApiError(422, "identity_failed", str(exc)) from None
    digest = keys().lookup(identity.id_number)
    with sessions().begin() as db:
        row = db.get(Account, account.id)
        if row.id_number_hash and row.id_number_hash != digest:
            raise ApiError(409, "identity_mismatch", "核验的身份与本账号已绑定的身份不一致")
        other = db.scalar(select(Account).where(Account.id_number_hash == digest, Account.id != account.id))
        if other is not None:
            raise ApiError(409, "identity_taken", "该身份已绑定其他账号，请使用该账号登录")
        row.id_number_hash = digest
        row.id_number_enc = keys().seal(identity.id_number)
        row.display_name = identity.name or row.display_name
        db.flush()
        _ = [(r.role, r.office) for r in row.roles]
        db.expunge_all()
    return account_view(row)
