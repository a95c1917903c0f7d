"""The embedded default sender: it 'sends' by logging, so it is for demo deployments only.

It is the only place where a sign-in code may reach the server's log: its check
refuses FORMFLOW_DEMO=0, and a log sender built for a non-demo deployment anyway
(bypassing the check) logs nothing but the fact of a send.
"""

from __future__ import annotations

import logging
from typing import Any

from formflow.integrations.sms import mask, sms_senders
from formflow.text.catalogue import _

log = logging.getLogger("formflow.sms")


@sms_senders.register("log")
class LogSmsSender:
    """Embedded default: 'sends' by logging (the code shows in the server's output)."""

    def __init__(self, *, demo: bool = True) -> None:
        self.demo = demo

    @classmethod
    def check(cls, settings: Any) -> list[str]:
        if getattr(settings, "load_demo", True):
            return []
        return [_("FORMFLOW_SMS_SENDER is the log sender, which writes messages (sign-in codes too) to the "
                  "server log and is for demo deployments only (FORMFLOW_DEMO=1); choose aliyun or tencent")]

    @classmethod
    def from_settings(cls, settings: Any, **_context: Any) -> LogSmsSender:
        return cls(demo=bool(getattr(settings, "load_demo", True)))

    def send(self, mobile: str, text: str, *, kind: str | None = None, params: dict[str, Any] | None = None,
             key: str | None = None) -> str | None:
        masked = mask(mobile)
        if not self.demo:
            log.warning("SMS to %s not logged (not a demo deployment)", masked)
            return None
        log.warning("SMS to %s: %s", masked, text)
        print(_("[formflow SMS] %(mobile)s: %(text)s", mobile=masked, text=text), flush=True)
        return None
