"""Alibaba Cloud SMS (dysmsapi 2017-05-25 SendSms) through the official SDK.

PhoneNumbers, SignName, TemplateCode, TemplateParam (a JSON object of the
template's variables) and OutId (the outbox key, so the provider's receipts name
our message). FORMFLOW_SMS_ENDPOINT overrides the endpoint (tests use a local
stand-in; the SDK still signs every request with ACS3-HMAC-SHA256).
"""

from __future__ import annotations

import json
from typing import Any

from formflow.integrations.sms import SmsFailed, mask, sms_senders
from formflow.integrations.sms.settings import SmsSettings, provider_settings
from formflow.text.catalogue import _

TITLE = "Alibaba Cloud SMS"
PERMANENT = {"isv.MOBILE_NUMBER_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL", "isv.SMS_SIGNATURE_ILLEGAL",
             "isv.TEMPLATE_MISSING_PARAMETERS", "isv.INVALID_PARAMETERS"}


@sms_senders.register("aliyun")
class AliyunSmsSender:
    def __init__(self, config: SmsSettings) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import models as openapi

        self.config = config
        options: dict[str, Any] = {"access_key_id": config.access_key_id,
                                   "access_key_secret": config.access_key_secret,
                                   "region_id": config.region or "cn-hangzhou"}
        parts = config.endpoint_parts()
        options["endpoint"] = parts[1] if parts else "dysmsapi.aliyuncs.com"
        if parts:
            options["protocol"] = parts[0]
        self.client = Client(openapi.Config(**options))

    @classmethod
    def check(cls, settings: Any) -> list[str]:
        return provider_settings(settings).check(_(TITLE))

    @classmethod
    def from_settings(cls, settings: Any, **_context: Any) -> AliyunSmsSender:
        return cls(provider_settings(settings))

    def send(self, mobile: str, text: str, *, kind: str | None = None, params: dict[str, Any] | None = None,
             key: str | None = None) -> str | None:
        from alibabacloud_dysmsapi20170525 import models
        from alibabacloud_tea_util import models as util

        template = self.config.template(kind)
        try:
            values = dict(template.ordered(params or {}))
        except KeyError as exc:
            raise SmsFailed(_("The SMS template of \"%(kind)s\" needs the variables %(names)s",
                              kind=kind or "", names=str(exc).strip("'")), code="params", retry=False) from exc
        request = models.SendSmsRequest(phone_numbers=mobile, sign_name=self.config.sign_name,
                                        template_code=template.id,
                                        template_param=json.dumps(values, ensure_ascii=False), out_id=key)
        timeout = int(self.config.timeout_seconds * 1000)
        try:
            response = self.client.send_sms_with_options(
                request, util.RuntimeOptions(read_timeout=timeout, connect_timeout=timeout, autoretry=False))
        except Exception as exc:  # the SDK raises its own errors for HTTP and transport failures
            code = str(getattr(exc, "code", "") or exc.__class__.__name__)
            raise SmsFailed(_("%(provider)s did not take the SMS to %(mobile)s: %(error)s", provider=_(TITLE),
                              mobile=mask(mobile), error=getattr(exc, "message", None) or exc), code=code) from exc
        body = response.body
        if body is None or body.code != "OK":
            code = getattr(body, "code", "") or ""
            raise SmsFailed(_("%(provider)s did not take the SMS to %(mobile)s: %(error)s", provider=_(TITLE),
                              mobile=mask(mobile), error=f"{code} {getattr(body, 'message', '')}".strip()),
                            code=code, retry=code not in PERMANENT)
        return body.biz_id
