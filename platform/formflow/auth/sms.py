"""Sign-in by SMS code: a small sender interface and one-time codes.

The embedded default's sender writes the code to the server log; a real
deployment plugs its SMS gateway in by implementing `SmsSender`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.db.models import SmsCode, as_utc, utcnow

log = logging.getLogger("formflow.sms")
CODE_TTL = timedelta(minutes=5)
MAX_TRIES = 5
RESEND_AFTER = timedelta(seconds=60)


class SmsSender(Protocol):
    def send(self, mobile: str, text: str) -> None: ...


class LogSmsSender:
    """Embedded default: 'sends' by logging (the code shows in the server's output)."""

    def send(self, mobile: str, text: str) -> None:
        log.warning("SMS to %s: %s", mobile[:3] + "****" + mobile[-4:], text)
        print(f"[formflow 短信] {mobile[:3]}****{mobile[-4:]}: {text}", flush=True)


def _digest(code: str, mobile_hash: str) -> str:
    return hmac.new(mobile_hash.encode(), code.encode(), hashlib.sha256).hexdigest()


def issue_code(session: Session, sender: SmsSender, mobile: str, mobile_hash: str) -> str | None:
    """Send a new code; returns a refusal message when asked again too soon."""
    now = utcnow()
    last = session.scalar(
        select(SmsCode).where(SmsCode.mobile_hash == mobile_hash).order_by(SmsCode.id.desc()).limit(1)
    )
    if last is not None and as_utc(last.created_at) > now - RESEND_AFTER:
        return "验证码已发送，请 60 秒后再试"
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(SmsCode(mobile_hash=mobile_hash, code_hash=_digest(code, mobile_hash),
                        created_at=now, expires_at=now + CODE_TTL))
    sender.send(mobile, f"您的登录验证码为 {code}，5 分钟内有效。如非本人操作请忽略。")
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
