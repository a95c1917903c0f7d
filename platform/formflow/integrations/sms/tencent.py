"""Tencent Cloud SMS (sms 2021-01-11 SendSms) through the official SDK.

PhoneNumberSet (+86…), SmsSdkAppId, SignName, TemplateId, TemplateParamSet (the
template's variables in order) and SessionContext (the outbox key, echoed in
receipts). FORMFLOW_SMS_ENDPOINT overrides the endpoint (tests use a local
stand-in; the SDK still signs every request with TC3-HMAC-SHA256).
"""

from __future__ import annotations

from typing import Any

from formflow.integrations.sms import SmsFailed, mask, sms_senders
from formflow.integrations.sms.settings import SmsSettings, provider_settings
from formflow.text.catalogue import _

TITLE = "Tencent Cloud SMS"
PERMANENT = {"InvalidParameterValue.IncorrectPhoneNumber", "FailedOperation.TemplateIncorrectOrUnapproved",
             "FailedOperation.SignatureIncorrectOrUnapproved", "InvalidParameterValue.TemplateParameterFormatError"}


def international(mobile: str) -> str:
    """E.164 as the API wants it: a mainland number gets +86."""
    digits = mobile.strip().replace(" ", "")
    return digits if digits.startswith("+") else "+86" + digits


@sms_senders.register("tencent")
class TencentSmsSender:
    def __init__(self, config: SmsSettings) -> None:
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        self.config = config
        parts = config.endpoint_parts() or ("https", "sms.tencentcloudapi.com")
        http = HttpProfile(protocol=parts[0], endpoint=parts[1], reqTimeout=max(1, int(config.timeout_seconds)))
        self.client = sms_client.SmsClient(credential.Credential(config.access_key_id, config.access_key_secret),
                                           config.region or "ap-guangzhou", ClientProfile(httpProfile=http))

    @classmethod
    def check(cls, settings: Any) -> list[str]:
        return provider_settings(settings).check(_(TITLE), needs_app_id=True)

    @classmethod
    def from_settings(cls, settings: Any, **_context: Any) -> TencentSmsSender:
        return cls(provider_settings(settings))

    def send(self, mobile: str, text: str, *, kind: str | None = None, params: dict[str, Any] | None = None,
             key: str | None = None) -> str | None:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        template = self.config.template(kind)
        try:
            values = [value for _name, value in template.ordered(params or {})]
        except KeyError as exc:
            raise SmsFailed(_("The SMS template of \"%(kind)s\" needs the variables %(names)s",
                              kind=kind or "", names=str(exc).strip("'")), code="params", retry=False) from exc
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [international(mobile)]
        request.SmsSdkAppId = self.config.sdk_app_id
        request.SignName = self.config.sign_name
        request.TemplateId = template.id
        request.TemplateParamSet = values
        request.SessionContext = key or ""
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            code = exc.get_code() or ""
            raise SmsFailed(_("%(provider)s did not take the SMS to %(mobile)s: %(error)s", provider=_(TITLE),
                              mobile=mask(mobile), error=f"{code} {exc.get_message()}".strip()),
                            code=code, retry=code not in PERMANENT) from exc
        except Exception as exc:  # transport failures the SDK lets through
            raise SmsFailed(_("%(provider)s did not take the SMS to %(mobile)s: %(error)s", provider=_(TITLE),
                              mobile=mask(mobile), error=exc), code=exc.__class__.__name__) from exc
        statuses = response.SendStatusSet or []
        status = statuses[0] if statuses else None
        if status is None or status.Code != "Ok":
            code = getattr(status, "Code", "") or ""
            raise SmsFailed(_("%(provider)s did not take the SMS to %(mobile)s: %(error)s", provider=_(TITLE),
                              mobile=mask(mobile), error=f"{code} {getattr(status, 'Message', '')}".strip()),
                            code=code, retry=code not in PERMANENT)
        return status.SerialNo
