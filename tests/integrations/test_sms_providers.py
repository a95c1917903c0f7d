"""Both SMS adapters against local stand-ins of their APIs (signatures verified), the outbox handler
`sms` (sent once, retried on an error answer, per-number limits), and the demo-only log sender."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select
from standins import AliyunSms, TencentSms

from formflow.auth.sms import issue_code
from formflow.config import Settings
from formflow.db.models import Account, OutboxMessage, SmsSend
from formflow.integrations.sms import SmsFailed, sms_senders
from formflow.integrations.sms.aliyun import AliyunSmsSender
from formflow.integrations.sms.log import LogSmsSender
from formflow.integrations.sms.outbox import deliver_sms
from formflow.integrations.sms.settings import SmsSettings
from formflow.integrations.sms.tencent import TencentSmsSender
from formflow.outbox import enqueue
from support import WebClient, make_web_app

KEY_ID, SECRET = "AKID-formflow-test", "secret-formflow-test"
TEMPLATES = {"sign_in_code": {"id": "SMS_100001", "params": ["code"]},
             "accepted": {"id": "SMS_100002", "params": ["name", "matter"]}}
MOBILE = "13912345678"


def provider_settings(endpoint: str, *, secret: str = SECRET, **overrides) -> SmsSettings:
    values = {"access_key_id": KEY_ID, "access_key_secret": secret, "sign_name": "梅江住保",
              "sdk_app_id": "1400000001", "endpoint": endpoint, "templates_raw": json.dumps(TEMPLATES),
              "timeout_seconds": 5.0, **overrides}
    return SmsSettings(**values)


@pytest.fixture
def aliyun():
    standin = AliyunSms({KEY_ID: SECRET})
    yield standin
    standin.stop()


@pytest.fixture
def tencent():
    standin = TencentSms({KEY_ID: SECRET})
    yield standin
    standin.stop()


# --------------------------------------------------------------------------- the adapters, request by request


def test_aliyun_sends_the_template_its_variables_and_the_outbox_key(aliyun):
    sender = AliyunSmsSender(provider_settings(aliyun.endpoint))
    biz_id = sender.send(MOBILE, "rendered text", kind="accepted", key="sms:41",
                         params={"matter": "公租房申请", "name": "张*", "unused": "x"})
    [request] = aliyun.received
    assert aliyun.refused == []  # the stand-in verified the ACS3-HMAC-SHA256 signature
    assert request["action"] == "SendSms" and request["PhoneNumbers"] == MOBILE
    assert (request["SignName"], request["TemplateCode"], request["OutId"]) == ("梅江住保", "SMS_100002", "sms:41")
    assert json.loads(request["TemplateParam"]) == {"name": "张*", "matter": "公租房申请"}
    assert biz_id == "1^0"


def test_aliyun_with_a_wrong_secret_is_refused_by_the_api(aliyun):
    sender = AliyunSmsSender(provider_settings(aliyun.endpoint, secret="not-the-secret"))
    with pytest.raises(SmsFailed) as caught:
        sender.send(MOBILE, "x", kind="sign_in_code", params={"code": "123456"}, key="sms:1")
    assert aliyun.refused == ["IncompleteSignature"] and aliyun.received == []
    assert "139****5678" in str(caught.value) and MOBILE not in str(caught.value)


def test_aliyun_business_error_answer_fails_the_send(aliyun):
    aliyun.answers = ["limit"]
    with pytest.raises(SmsFailed) as caught:
        AliyunSmsSender(provider_settings(aliyun.endpoint)).send(MOBILE, "x", kind="sign_in_code",
                                                                 params={"code": "1"}, key="k")
    assert caught.value.reason == "isv.BUSINESS_LIMIT_CONTROL" and caught.value.retry


def test_tencent_sends_the_template_its_ordered_variables_and_the_session_context(tencent):
    sender = TencentSmsSender(provider_settings(tencent.endpoint))
    serial = sender.send(MOBILE, "rendered text", kind="accepted", key="sms:42",
                         params={"matter": "公租房申请", "name": "张*"})
    [request] = tencent.received
    assert tencent.refused == []  # the stand-in verified the TC3-HMAC-SHA256 signature
    assert request["action"] == "SendSms" and request["PhoneNumberSet"] == ["+86" + MOBILE]
    assert (request["SmsSdkAppId"], request["SignName"], request["TemplateId"]) == ("1400000001", "梅江住保",
                                                                                    "SMS_100002")
    assert request["TemplateParamSet"] == ["张*", "公租房申请"] and request["SessionContext"] == "sms:42"
    assert serial == "2433:1"


def test_tencent_with_a_wrong_secret_is_refused_by_the_api(tencent):
    sender = TencentSmsSender(provider_settings(tencent.endpoint, secret="not-the-secret"))
    with pytest.raises(SmsFailed) as caught:
        sender.send(MOBILE, "x", kind="sign_in_code", params={"code": "123456"}, key="sms:1")
    assert tencent.refused == ["AuthFailure.SignatureFailure"] and tencent.received == []
    assert caught.value.reason == "AuthFailure.SignatureFailure"


def test_tencent_error_status_fails_the_send(tencent):
    tencent.answers = ["limit"]
    with pytest.raises(SmsFailed) as caught:
        TencentSmsSender(provider_settings(tencent.endpoint)).send(MOBILE, "x", kind="sign_in_code",
                                                                   params={"code": "1"}, key="k")
    assert caught.value.reason == "LimitExceeded.PhoneNumberThirtySecondLimit"


def test_a_kind_without_a_template_or_a_missing_variable_is_not_sent(aliyun):
    sender = AliyunSmsSender(provider_settings(aliyun.endpoint))
    with pytest.raises(SmsFailed, match="FORMFLOW_SMS_TEMPLATES"):
        sender.send(MOBILE, "x", kind="lottery_result", params={}, key="k")
    with pytest.raises(SmsFailed) as caught:
        sender.send(MOBILE, "x", kind="accepted", params={"name": "张*"}, key="k")
    assert "matter" in str(caught.value) and aliyun.received == []


# --------------------------------------------------------------------------- the outbox handler `sms`


@pytest.fixture
def services(sqlite_platform, aliyun):
    app = make_web_app(sqlite_platform)
    services = app.extensions["formflow.services"]
    services.settings.sms_sender = "aliyun"
    services.settings.sms_provider = provider_settings(aliyun.endpoint, limits_raw="3/min")
    services.sms = AliyunSmsSender(services.settings.sms_provider)
    return services


def _account_with_mobile(services) -> Account:
    with services.sessions() as session:
        account = session.scalars(select(Account).where(Account.mobile_enc.is_not(None)).order_by(Account.id)).first()
        assert account is not None
        return account


def _enqueue(services, key: str, account_id: int) -> None:
    with services.sessions.begin() as session:
        enqueue(session, "sms", {"account_id": account_id, "message_kind": "accepted",
                                 "params": {"name": "张*", "matter": "公租房申请"}, "text": "您的申请已受理"}, key=key)


def _run(services, key: str) -> None:
    """What the worker does with one message: the handler in a transaction (rolled back when it raises)."""
    with services.sessions() as session, session.begin():
        message = session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
        deliver_sms(session, message, services)


def test_the_handler_sends_to_the_accounts_mobile_once_even_when_run_again(services, aliyun):
    account = _account_with_mobile(services)
    mobile = services.keys.open(account.mobile_enc)
    _enqueue(services, "sms:1", account.id)
    _run(services, "sms:1")
    _run(services, "sms:1")  # the worker crashed before marking it done: run again
    [request] = aliyun.received
    assert request["PhoneNumbers"] == mobile and request["OutId"] == "sms:1"
    with services.sessions() as session:
        [sent] = session.scalars(select(SmsSend)).all()
        assert (sent.key, sent.provider_id, sent.sender) == ("sms:1", "1^0", "aliyun")
        assert mobile not in sent.mobile_hash


def test_an_error_answer_raises_so_the_outbox_retries_and_the_retry_sends(services, aliyun):
    account = _account_with_mobile(services)
    _enqueue(services, "sms:2", account.id)
    aliyun.answers = ["limit"]
    with pytest.raises(SmsFailed):
        _run(services, "sms:2")
    with services.sessions() as session:
        assert session.scalar(select(func.count(SmsSend.id))) == 0
    _run(services, "sms:2")
    assert [r["OutId"] for r in aliyun.received] == ["sms:2", "sms:2"]
    with services.sessions() as session:
        assert session.scalar(select(func.count(SmsSend.id))) == 1


def test_a_number_over_its_limit_waits_and_the_provider_hears_nothing(services, aliyun):
    account = _account_with_mobile(services)
    for n in range(4):
        _enqueue(services, f"sms:limit:{n}", account.id)
    for n in range(3):
        _run(services, f"sms:limit:{n}")
    with pytest.raises(SmsFailed) as caught:
        _run(services, "sms:limit:3")
    assert caught.value.reason == "rate_limited" and len(aliyun.received) == 3


# --------------------------------------------------------------------------- the sign-in code through a provider


def test_the_sign_in_code_goes_through_the_providers_template_and_signs_in(sqlite_platform, tencent):
    settings = Settings(config_root=sqlite_platform.root, instance_dir=sqlite_platform.instance,
                        database_url=sqlite_platform.url, sms_sender="tencent",
                        sms_provider=provider_settings(tencent.endpoint))
    from formflow.app import create_app

    app = create_app(settings, keys=sqlite_platform.keys, packset=sqlite_platform.packs)
    app.config["TESTING"] = True
    web = WebClient(app)
    assert web.post("/auth/sms/send", {"mobile": MOBILE}).status_code == 200
    [request] = tencent.received
    assert request["TemplateId"] == "SMS_100001" and request["PhoneNumberSet"] == ["+86" + MOBILE]
    [code] = request["TemplateParamSet"]
    assert re.fullmatch(r"\d{6}", code)
    assert web.post("/auth/sms/login", {"mobile": MOBILE, "code": code}).status_code == 302


# --------------------------------------------------------------------------- the demo log sender


def test_the_log_sender_refuses_a_deployment_that_is_not_a_demo():
    assert sms_senders.problems("log", Settings(load_demo=True)) == []
    [problem] = sms_senders.problems("log", Settings(load_demo=False))
    assert "FORMFLOW_SMS_SENDER" in problem and "FORMFLOW_DEMO=1" in problem


def test_only_the_demo_log_sender_prints_a_code(sqlite_platform, capsys, caplog):
    with sqlite_platform.sessions.begin() as session:
        issue_code(session, LogSmsSender(demo=True), MOBILE, "hash-demo")
    shown = capsys.readouterr().out + caplog.text
    assert re.search(r"\d{6}", shown.replace("139****5678", ""))  # positive control: the demo shows the code
    caplog.clear()
    with sqlite_platform.sessions.begin() as session:
        issue_code(session, LogSmsSender(demo=False), MOBILE, "hash-production")
    shown = capsys.readouterr().out + caplog.text
    assert not re.search(r"\d{6}", shown.replace("139****5678", "")) and "139****5678" in shown


# --------------------------------------------------------------------------- settings checked at start


def _start_refusal(tmp_path, shipped_packs, **overrides):
    from formflow.app import create_app
    from formflow.plugins import PluginProblem

    settings = Settings(instance_dir=tmp_path / "instance", database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
                        **overrides)
    with pytest.raises(PluginProblem) as caught:
        create_app(settings, packset=shipped_packs)
    return caught.value.message


def test_a_provider_without_its_settings_refuses_to_start_naming_each(tmp_path, shipped_packs):
    message = _start_refusal(tmp_path, shipped_packs, sms_sender="tencent", sms_provider=SmsSettings())
    for setting in ("FORMFLOW_SMS_ACCESS_KEY_ID", "FORMFLOW_SMS_ACCESS_KEY_SECRET", "FORMFLOW_SMS_SIGN_NAME",
                    "FORMFLOW_SMS_SDK_APP_ID"):
        assert f"未设置 {setting}：腾讯云短信发送短信需要它" in message
    assert "FORMFLOW_SMS_TEMPLATES 没有“sign_in_code”（登录验证码）的短信模板" in message


def test_bad_templates_and_limits_refuse_to_start(tmp_path, shipped_packs):
    message = _start_refusal(tmp_path, shipped_packs, sms_sender="aliyun", sms_provider=provider_settings(
        "http://127.0.0.1:9", templates_raw="{not json", limits_raw="5/week"))
    assert "FORMFLOW_SMS_TEMPLATES 不是有效的 JSON" in message
    assert "FORMFLOW_SMS_RATE_LIMITS：“5/week”不是 2/min、10/h 或 30/day 这样的限额" in message


def test_the_log_sender_outside_a_demo_refuses_to_start(tmp_path, shipped_packs, monkeypatch):
    from support import TEST_KEYS

    monkeypatch.setenv("FORMFLOW_DATA_KEYS", TEST_KEYS)  # production keys in order: the SMS sender is what is refused
    message = _start_refusal(tmp_path, shipped_packs, load_demo=False, identity_providers=(), sms_sender="log")
    assert "FORMFLOW_SMS_SENDER 选择了日志发送" in message and "FORMFLOW_DEMO=1" in message


def test_templates_may_come_from_a_file(tmp_path):
    path = tmp_path / "templates.json"
    path.write_text(json.dumps(TEMPLATES), encoding="utf-8")
    config = provider_settings("", templates_raw=str(path))
    assert config.check("x") == [] and config.template("accepted").params == ("name", "matter")


def test_a_sign_in_code_the_provider_refuses_is_a_page_saying_so_and_no_code_is_kept(sqlite_platform, tencent):
    from formflow.app import create_app
    from formflow.db.models import SmsCode

    settings = Settings(config_root=sqlite_platform.root, instance_dir=sqlite_platform.instance,
                        database_url=sqlite_platform.url, sms_sender="tencent",
                        sms_provider=provider_settings(tencent.endpoint, secret="not-the-secret"))
    app = create_app(settings, keys=sqlite_platform.keys, packset=sqlite_platform.packs)
    app.config["TESTING"] = True
    response = WebClient(app).post("/auth/sms/send", {"mobile": MOBILE})
    assert response.status_code == 503 and "腾讯云短信未接受发往 139****5678 的短信" in response.get_data(as_text=True)
    with sqlite_platform.sessions() as session:
        assert session.scalar(select(func.count(SmsCode.id))) == 0
