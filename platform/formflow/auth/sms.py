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
from datetime import timedelta

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


def _digest(code: str, mobile_hash: str) -> str:
    return hmac.new(mobile_hash.encode(), code.encode(), hashlib.sha256).hexdigest()


def issue_code(session: Session, sender: SmsSender, mobile: str, mobile_hash: str) -> str | None:
    """Send a new code; returns a refusal message when asked again too soon."""
    now = utcnow()
    last = session.scalar(
        select(SmsCode).where(SmsCode.mobile_hash == mobile_hash).order_by(SmsCode.id.desc()).limit(1)
    )
    if last is not None and as_utc(last.created_at) > now - RESEND_AFTER:
        return _("A code was sent already; try again in 60 seconds")
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
