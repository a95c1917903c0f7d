"""Sign-in (password, SMS code, identity provider), sign-out, identity verification, the language switch.

Each sign-in is a server-side session (`auth.websessions`): logout ends it, so a copied
cookie no longer opens anything. Sign-ins, failures, logouts and password changes go to
the security log (`auth.seclog`) in the transaction of what they record.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from formflow.auth import passwords, seclog, sms, throttle, websessions
from formflow.auth.current import IDENTITY_KEY, SID_KEY, SignedIn, current_account, init_login, login_required
from formflow.auth.passwords import hash_password, policy_problems, verify_password
from formflow.auth.providers import IdentityError
from formflow.auth.roles import AUDITOR, CITIZEN
from formflow.auth.safety import safe_target
from formflow.db.models import Account
from formflow.forms.formats import is_cn_mobile, mask_mobile
from formflow.text.catalogue import LOCALES, SESSION_KEY, _
from formflow.usecases.identity import IdentityConflict, bind_account_identity
from formflow.web.context import services, sessions

bp = Blueprint("auth", __name__, url_prefix="/auth")
csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    settings = app.extensions["formflow"]["settings"]
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=websessions.IDLE_LIFETIME,
        SESSION_REFRESH_EACH_REQUEST=True,
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf.init_app(app)
    init_login(app)
    if settings.trusted_proxies > 0:  # X-Forwarded-For / -Proto honoured from that many proxies only
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0)  # type: ignore[method-assign]
    passwords.set_concurrency(settings.argon2_concurrency)
    chosen = app.extensions["formflow.services"]  # the providers the settings choose (formflow.plugins)
    app.extensions["formflow"]["identity_providers"] = chosen.identity
    app.extensions["formflow"].setdefault("sms_sender", chosen.sms)


def _providers() -> dict[str, Any]:
    return services().identity


def _safe_next(default: str) -> str:
    """Only same-site relative targets (no open redirect)."""
    return safe_target(request.values.get("next"), default)


def _address() -> str:
    return request.remote_addr or "unknown"


def _clear_session() -> None:
    """A fresh session that keeps only the person's language choice."""
    locale = session.get(SESSION_KEY)
    session.clear()
    if locale in LOCALES:
        session[SESSION_KEY] = locale


def _sign_in(db: Any, account: Account) -> None:
    """A new server-side session for `account` (in the caller's transaction) and its cookie."""
    sid = websessions.start(db, account, _address())
    _clear_session()
    session.permanent = True
    session[SID_KEY] = sid
    login_user(SignedIn(account.id, account.session_epoch))


def _home_for(account: Account) -> str:
    roles = {r.role for r in account.roles}
    if AUDITOR in roles and "audit.log" in _endpoints():
        return url_for("audit.log")
    if roles - {CITIZEN}:
        return url_for("desk.queue") if "desk.queue" in _endpoints() else url_for("public.home")
    return url_for("portal.home") if "portal.home" in _endpoints() else url_for("public.home")


def _endpoints() -> set[str]:
    from flask import current_app

    return {rule.endpoint for rule in current_app.url_map.iter_rules()}


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        username = request.form.get("username", "").strip()[:64]
        password = request.form.get("password", "")[:256]
        with sessions().begin() as db:
            signed, refusal = throttle.password_sign_in(db, username, password, _address())
            if signed is not None:
                _roles = [r.role for r in signed.roles]
                _sign_in(db, signed)
        refusal = refusal or _("Wrong account or password")
        if signed is not None:
            return redirect(_safe_next(_home_for(signed)))
        flash(refusal, "error")
        return render_template("auth/login.html", username=username, providers=_providers()), 401
    return render_template("auth/login.html", username="", providers=_providers())


@bp.post("/sms/send")
def sms_send():
    mobile = request.form.get("mobile", "").strip()
    if not is_cn_mobile(mobile):
        flash(_("The mobile number is not valid"), "error")
        return render_template("auth/login.html", tab="sms", mobile=mobile, providers=_providers()), 400
    keys = services().keys
    with sessions().begin() as db:
        refusal = sms.issue_code(db, services().sms, mobile, keys.lookup(mobile), address=_address())
    flash(refusal or _("A code has been sent to %(mobile)s", mobile=mask_mobile(mobile)),
          "error" if refusal else "info")
    return render_template("auth/login.html", tab="sms", mobile=mobile, code_sent=True, providers=_providers())


@bp.post("/sms/login")
def sms_login():
    mobile = request.form.get("mobile", "").strip()
    code = request.form.get("code", "").strip()[:10]
    password = request.form.get("password", "")[:256]
    with sessions().begin() as db:  # the one SMS sign-in of the web and the API (auth.sms)
        result = sms.sign_in_with_code(db, services().keys, mobile, code, password, address=_address())
        signed, refusal = result.account, result.refusal
        if signed is not None:
            _roles = [r.role for r in signed.roles]
            _sign_in(db, signed)
    if signed is None:
        flash(refusal, "error")
        return render_template("auth/login.html", tab="sms", mobile=mobile, code_sent=True,
                               providers=_providers()), 401
    return redirect(_safe_next(_home_for(signed)))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's password; every other session of the account ends (session epoch).

    A wrong current password counts like a failed sign-in; the fifth in a session ends it."""
    account = current_account()
    if request.method == "GET":
        return render_template("auth/password.html", problems=[])
    current = request.form.get("current", "")[:256]
    new = request.form.get("new", "")[:256]
    problems = []
    if new != request.form.get("confirm", ""):
        problems.append(_("The two new passwords differ"))
    problems += policy_problems(new, account.username)
    ended = False
    with sessions().begin() as db:
        row = db.get(Account, account.id)
        live = websessions.find(db, session.get(SID_KEY), row.id)
        paused = throttle.refusal_for(db, row.username, _address())
        if paused is not None or not verify_password(row.password_hash, current):
            problems.insert(0, _("The current password is wrong"))
            if paused is None:
                throttle.record_failure(db, row, _address(), row.username)
            seclog.record(db, seclog.PASSWORD_CHECK_FAILED, actor=row, address=_address())
            if live is not None:
                live.password_failures += 1
            if paused is not None or live is None or live.password_failures >= websessions.PASSWORD_FAILURES_END:
                websessions.end(db, session.get(SID_KEY))
                seclog.record(db, seclog.SESSION_ENDED, actor=row, address=_address(),
                              detail="password_check_failed")
                ended = True
        elif not problems:
            row.password_hash = hash_password(new)
            row.session_epoch += 1
            db.flush()
            websessions.end(db, session.get(SID_KEY))
            seclog.record(db, seclog.PASSWORD_CHANGE, actor=row, address=_address())
            _roles = [r.role for r in row.roles]
            signed = row
            _sign_in(db, signed)
    if ended:
        logout_user()
        _clear_session()
        flash(_("The current password was wrong too many times; you have been signed out"), "error")
        return redirect(url_for("auth.login"))
    if problems:
        return render_template("auth/password.html", problems=problems), 400
    flash(_("Password changed; sign-ins on other devices have ended"), "info")
    return redirect(_home_for(signed))


@bp.post("/logout")
def logout():
    """Sign out: the server-side session ends, so the cookie (or a copy of it) opens nothing any more."""
    sid = session.get(SID_KEY)
    account = current_account()
    with sessions().begin() as db:
        if websessions.end(db, sid) and account is not None:
            seclog.record(db, seclog.LOGOUT, actor=db.get(Account, account.id), address=_address())
    logout_user()
    _clear_session()
    flash(_("You have signed out"), "info")
    return redirect(url_for("public.home"))


@bp.route("/verify", methods=["GET", "POST"])
@login_required
def verify_identity():
    """Identity verification before the form opens (the guide's identity verification step)."""
    account = current_account()
    providers = _providers()
    if request.method == "POST":
        if request.form.get("consent") != "yes":
            flash(_("You withdrew your consent, so the application cannot go on."), "info")
            return redirect(url_for("public.home"))
        demo = providers.get("demo")
        if demo is None:
            flash(_("Demo identity verification is not configured; please use the unified identity service"), "error")
            return render_template("auth/verify.html", account=account, providers=providers), 400
        try:
            identity = demo.verify(request.form.get("name", ""), request.form.get("id_number", ""))
        except IdentityError as exc:
            flash(exc.message, "error")
            return render_template("auth/verify.html", account=account, providers=providers,
                                   form=request.form), 400
        problem = _bind_identity(account.id, identity)
        if problem:
            flash(problem, "error")
            return render_template("auth/verify.html", account=account, providers=providers), 400
        return redirect(_safe_next(url_for("public.home")))
    return render_template("auth/verify.html", account=account, providers=providers, form={})


def _bind_identity(account_id: int, identity: Any) -> str | None:
    """Record the verified identity on the account (once bound, it cannot change)."""
    with sessions().begin() as db:  # the one binding of the web and the API (usecases.identity)
        try:
            bind_account_identity(services().keys, db, db.get_one(Account, account_id), identity)
        except IdentityConflict as exc:
            return exc.message
    session[IDENTITY_KEY] = account_id
    return None


@bp.get("/oidc/start")
@login_required
def oidc_start():
    provider = _providers().get("oidc")
    if provider is None:
        flash(_("The unified identity service is not configured"), "error")
        return redirect(url_for("auth.verify_identity"))
    session["oidc_next"] = _safe_next(url_for("public.home"))
    return provider.start(url_for("auth.oidc_callback", _external=True))


@bp.get("/oidc/callback")
@login_required
def oidc_callback():
    provider = _providers().get("oidc")
    if provider is None:
        return redirect(url_for("public.home"))
    try:
        identity = provider.finish()
    except IdentityError as exc:
        flash(exc.message, "error")
        return redirect(url_for("auth.verify_identity"))
    problem = _bind_identity(current_account().id, identity)
    if problem:
        flash(problem, "error")
        return redirect(url_for("auth.verify_identity"))
    return redirect(session.pop("oidc_next", url_for("public.home")))


@bp.post("/locale")
def choose_locale():
    """The person's own language (Chinese / English): kept in the session, over the browser's Accept-Language."""
    locale = request.form.get("locale", "")
    if locale in LOCALES:
        session[SESSION_KEY] = locale
    return redirect(_safe_next(url_for("public.home")))
