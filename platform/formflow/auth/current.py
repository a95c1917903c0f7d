"""Who is signed in, and view decorators that require it.

Sessions carry the account id and its `session_epoch`: changing a password or
a role bumps the epoch, which ends the account's other sessions. They also carry
a server-side session id (`formflow.auth.websessions`): logout ends that one
session for good, and no session outlives 12 hours.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user

from formflow.auth import websessions
from formflow.db.models import Account
from formflow.text.catalogue import _

IDENTITY_KEY = "identity_verified"
#: the session key holding the server-side session id
SID_KEY = "sid"


class SignedIn(UserMixin):
    """The flask-login user: just the account id and the epoch it signed in under."""

    def __init__(self, account_id: int, epoch: int) -> None:
        self.account_id = account_id
        self.epoch = epoch

    def get_id(self) -> str:
        return f"{self.account_id}:{self.epoch}"


def init_login(app: Any) -> LoginManager:
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = "Please sign in first"
    manager.localize_callback = _
    manager.session_protection = "basic"

    @manager.user_loader
    def load(user_id: str) -> SignedIn | None:
        from formflow.web.context import sessions

        account_id, _sep, epoch = user_id.partition(":")
        with sessions()() as db:
            account = db.get(Account, int(account_id)) if account_id.isdigit() else None
            if account is None or not account.is_active or str(account.session_epoch) != epoch:
                return None
            if websessions.find(db, session.get(SID_KEY), account.id) is None:
                return None
        return SignedIn(account.id, account.session_epoch)

    manager.init_app(app)
    return manager


def current_account() -> Account | None:
    """The signed-in account, loaded once per request (detached, read-only use)."""
    if not current_user.is_authenticated:
        return None
    if "account" not in g:
        from formflow.web.context import sessions

        with sessions()() as db:
            account = db.get(Account, current_user.account_id)
            if account is not None:
                _loaded = [(r.role, r.office_id, r.office) for r in account.roles]
            g.account = account
    return g.account


def signed_in_account() -> Account:
    """The signed-in account, in a view that has already required one (`login_required`, `role_required`,
    or its own redirect to the sign-in page)."""
    account = current_account()
    if account is None:  # the view let an anonymous request through: a fault of the view, not of the person
        raise RuntimeError("signed_in_account() in a view that does not require a signed-in account")
    return account


def current_roles() -> list[tuple[str, str | None]]:
    account = current_account()
    return [(r.role, r.office_id) for r in account.roles] if account else []


def login_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_account() is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def role_required(*roles: str) -> Callable[[Callable], Callable]:
    """Signed in with one of `roles`; anyone else gets 404 (existence does not leak)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_account() is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if not any(role in roles for role, _office in current_roles()):
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def identity_verified_required(view: Callable) -> Callable:
    """Signed in and identity verified through the provider in this session."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        account = current_account()
        if account is None:
            return redirect(url_for("auth.login", next=request.full_path))
        if session.get(IDENTITY_KEY) != account.id or not account.id_number_enc:
            return redirect(url_for("auth.verify_identity", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def verified_identity() -> dict[str, str] | None:
    """Name and ID number of the signed-in citizen, once verified in this session."""
    from formflow.web.context import services

    account = current_account()
    if account is None or session.get(IDENTITY_KEY) != account.id or not account.id_number_enc:
        return None
    keys = services().keys
    return {"name": account.display_name, "id_number": keys.open(account.id_number_enc)}
