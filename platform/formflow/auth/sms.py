"""Sign-in by SMS code: a small sender interface and one-time codes.

The senders (`log` for demos, `aliyun`, `tencent`) and their registry live in
`formflow.integrations.sms` (re-exported here); FORMFLOW_SMS_SENDER chooses one
and the services build it (`services.sms`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.db.models import SmsCode, as_utc, utcnow
from formflow.integrations.sms import SIGN_IN_CODE, SmsSender, sms_senders  # noqa: F401 (re-exported)
from formflow.integrations.sms.log import LogSmsSender  # noqa: F401 (re-exported)
from formflow.text.catalogue import _

log = logging.getLogger("formflow.sms")
CODE_TTL = timedelta(minutes=5)
MAX_TRIES = 5
RESEND_AFTER = timedelta(seconds=60)
#: codes sent at most, per number and per address: (within, how many)
CAPS = ((timedelta(minutes=1), 1), (timedelta(hours=1), 5), (timedelta(days=1), 10))


def _digest(code: str, mobile_hash: str) -> str:
    return hmac.new(mobile_hash.encode(), code.encode(), hashlib.sha256).hexdigest()


def _capped(session: Session, mobile_hash: str, address: str) -> str | None:
    """Why no code may be sent now to this number or from this address (1 a minute, 5 an hour, 10 a day)."""
    from formflow.auth import seclog

    now = utcnow()
    for within, most in CAPS:
        sent_to = seclog.count_since(session, seclog.SMS_CODE_SENT, now - within, subject=mobile_hash)
        sent_from = seclog.count_since(session, seclog.SMS_CODE_SENT, now - within, address=address) if address else 0
        if sent_to >= most or sent_from >= most:
            if within <= RESEND_AFTER:
                return _("A code was sent already; try again in 60 seconds")
            return _("Too many codes were asked for; please try again later or sign in with your password")
    return None


def second_factor_ok(account: Any, password: str) -> bool:
    """A code alone signs in a citizen; an account with any other role needs its password as well."""
    from formflow.auth.passwords import verify_password
    from formflow.auth.roles import CITIZEN

    if not {r.role for r in account.roles} - {CITIZEN}:
        return True
    return verify_password(account.password_hash, password)


def issue_code(session: Session, sender: SmsSender, mobile: str, mobile_hash: str, *, address: str = ""
               ) -> str | None:
    """Send a new code; returns a refusal message when asked again too soon or too often."""
    from formflow.auth import seclog

    now = utcnow()
    last = session.scalar(
        select(SmsCode).where(SmsCode.mobile_hash == mobile_hash).order_by(SmsCode.id.desc()).limit(1)
    )
    if last is not None and as_utc(last.created_at) > now - RESEND_AFTER:
        return _("A code was sent already; try again in 60 seconds")
    capped = _capped(session, mobile_hash, address)
    if capped is not None:
        return capped
    seclog.record(session, seclog.SMS_CODE_SENT, address=address, subject=mobile_hash)
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(SmsCode(mobile_hash=mobile_hash, code_hash=_digest(code, mobile_hash),
                        created_at=now, expires_at=now + CODE_TTL))
    sender.send(mobile, _("Your sign-in code is %(code)s, valid for 5 minutes. If you did not ask for it, "
                          "ignore this message.", code=code), kind=SIGN_IN_CODE, params={"code": code})
    return None


def check_code(session: Session, mobile_hash: str, code: str) -> bool:
    """True once for the latest unexpired code; wrong tries are counted and capped."""
    now = utcnow()
    row = session.scalar(
        select(SmsCode).where(SmsCode.mobile_hash == mobile_hash, SmsCode.used.is_(False))
        .order_by(SmsCode.id.desc()).limit(1).with_for_update()
    )  # fmt: skip
    if row is None or as_utc(row.expires_at) < now or row.tries >= MAX_TRIES:
        return False
    if not hmac.compare_digest(row.code_hash, _digest(code.strip(), mobile_hash)):
        row.tries += 1
        return False
    row.used = True
    return True


@dataclass(frozen=True)
class CodeSignIn:
    """What an SMS-code sign-in came to: the account, or why not (`reason`: paused, password_required, wrong_code)."""

    account: Any = None
    refusal: str | None = None
    reason: str = ""


def sign_in_with_code(session: Session, keys: Any, mobile: str, code: str, password: str = "", *,
                      address: str = "") -> CodeSignIn:
    """The one SMS-code sign-in of the web and the API, in the caller's transaction.

    Throttled like passwords (per number and address, `auth.throttle`); a code alone
    signs in a citizen (a new citizen account for a new number), staff also need their
    password (`second_factor_ok`). Success and failures go to the security log.
    """
    from formflow.auth import throttle
    from formflow.auth.roles import CITIZEN
    from formflow.db.models import Account, RoleAssignment
    from formflow.forms.formats import is_cn_mobile, mask_mobile

    mobile_hash = keys.lookup(mobile) if is_cn_mobile(mobile) else ""
    key = f"sms:{mobile_hash[:16]}"
    account = session.scalar(select(Account).where(Account.mobile_hash == mobile_hash)) if mobile_hash else None
    refusal = throttle.refusal_for(session, key, address)
    if refusal is not None:
        return CodeSignIn(None, refusal, "paused")
    if not (mobile_hash and check_code(session, mobile_hash, code)):
        throttle.record_failure(session, account, address, key)
        return CodeSignIn(None, _("The code is wrong or has expired"), "wrong_code")
    if account is not None and not second_factor_ok(account, password):  # staff: password + code
        throttle.record_failure(session, account, address, key)
        return CodeSignIn(None, _("Staff accounts sign in with their password and an SMS code together"),
                          "password_required")
    if account is None:
        account = Account(username=f"m{mobile_hash[:12]}", display_name=mask_mobile(mobile),
                          mobile_enc=keys.seal(mobile), mobile_hash=mobile_hash)
        account.roles = [RoleAssignment(role=CITIZEN)]
        session.add(account)
        session.flush()
    throttle.record_success(session, account, address, "sms")
    return CodeSignIn(account, None, "")
