"""SMS senders behind the plugin registry: the demo `log` sender, Alibaba Cloud and Tencent Cloud.

A sender is a class registered in `sms_senders` and chosen by FORMFLOW_SMS_SENDER
(`services.sms` builds it). Providers in mainland China send only approved
templates, so a sender is handed the message kind and its parameters besides the
rendered text: `send(mobile, text, *, kind=None, params=None, key=None)`. The
settings of the providers (keys, sign name, a template per message kind) are
`settings.sms_provider` (`formflow.integrations.sms.settings`), checked at start.

A send that fails raises `SmsFailed`: the outbox retries it with backoff.
"""

from __future__ import annotations

from typing import Any, Protocol

from formflow.plugins import Registry
from formflow.text.catalogue import lazy
from formflow.text.errors import Refusal

#: The message kind of the sign-in code (its template is required of a provider).
SIGN_IN_CODE = "sign_in_code"


class SmsSender(Protocol):
    def send(self, mobile: str, text: str, *, kind: str | None = None, params: dict[str, Any] | None = None,
             key: str | None = None) -> str | None:
        """Send; returns the provider's id of the message (None when it gives none)."""
        ...


class SmsFailed(Refusal):
    """The provider did not take the message: the outbox retries with backoff; a page says so (503).

    `reason` is the provider's code (isv.BUSINESS_LIMIT_CONTROL, AuthFailure.SignatureFailure, …).
    """

    code = "sms_failed"
    status = 503

    def __init__(self, message: str, *, code: str = "", retry: bool = True) -> None:
        super().__init__(message, reason=code)
        self.reason = code
        self.retry = retry


sms_senders: Registry[SmsSender] = Registry(lazy("SMS sender"), "FORMFLOW_SMS_SENDER")


def mask(mobile: str) -> str:
    """139****5678: how a number appears in logs and errors."""
    return mobile[:3] + "****" + mobile[-4:] if len(mobile) >= 7 else "****"


from formflow.integrations.sms import aliyun, log, tencent  # noqa: E402,F401  (register the senders)
