"""Pluggable parts (identity, e-licence, SMS, storage): one registry each, chosen by settings,
checked at start so a misconfigured deployment refuses to start with the setting named."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

from formflow import plugins
from formflow.app import create_app
from formflow.auth.providers import DemoIdentityProvider, OidcIdentityProvider, identity_providers
from formflow.auth.sms import LogSmsSender, sms_senders
from formflow.config import Settings
from formflow.files.storage import LocalStorage, storages
from formflow.integrations.elicence import DemoElicenceProvider, elicence_providers
from formflow.plugins import PluginProblem, Registry
from support import WebClient, demo_password

OIDC = {"oidc_issuer": "https://id.example.gov.cn", "oidc_client_id": "formflow", "oidc_client_secret": "s3cret"}


def _settings(platform, **overrides) -> Settings:
    return Settings(config_root=platform.root, instance_dir=platform.instance, database_url=platform.url,
                    **overrides)


def _app(platform, **overrides):
    app = create_app(_settings(platform, **overrides), keys=platform.keys, packset=platform.packs)
    app.config["TESTING"] = True
    return app


def _refusal(tmp_path: Path, shipped_packs, **overrides) -> PluginProblem:
    """create_app's refusal for these settings (nothing needs a database: it refuses before)."""
    settings = Settings(instance_dir=tmp_path / "instance", database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
                        **overrides)
    with pytest.raises(PluginProblem) as caught:
        create_app(settings, packset=shipped_packs)
    return caught.value


@pytest.fixture
def registered():
    """Register test plugins by name in a real registry; forgotten after the test."""
    added: list[tuple[Registry, str]] = []

    def register(registry: Registry, name: str, cls):
        registry.register(name)(cls)
        added.append((registry, name))
        return cls

    yield register
    for registry, name in added:
        registry.unregister(name)


class Outbox:
    """An SMS gateway that keeps what it sends (a deployment's sender is a class like this)."""

    sent: list[tuple[str, str]] = []

    def __init__(self, settings) -> None:
        self.settings = settings

    def send(self, mobile: str, text: str, **_template) -> None:
        Outbox.sent.append((mobile, text))


# --------------------------------------------------------------------------- defaults = the embedded deployment


def test_the_defaults_build_todays_parts(sqlite_platform, monkeypatch):
    monkeypatch.delenv("FORMFLOW_OIDC_ISSUER", raising=False)
    monkeypatch.delenv("FORMFLOW_IDENTITY_PROVIDERS", raising=False)
    app = _app(sqlite_platform)
    services = app.extensions["formflow.services"]
    assert isinstance(services.storage, LocalStorage)
    assert services.storage.root == sqlite_platform.instance / "files"
    assert isinstance(services.elicence, DemoElicenceProvider)
    assert isinstance(services.sms, LogSmsSender)
    assert list(services.identity) == ["demo"] and isinstance(services.identity["demo"], DemoIdentityProvider)
    # the demo identity check knows the packs' demo e-licence people
    assert services.identity["demo"].verify("陈志强", "441402198803150314").name == "陈志强"


def test_settings_read_the_choice_from_the_environment(monkeypatch):
    monkeypatch.setenv("FORMFLOW_IDENTITY_PROVIDERS", "oidc, demo")
    monkeypatch.setenv("FORMFLOW_ELICENCE_PROVIDER", "gov-http")
    monkeypatch.setenv("FORMFLOW_SMS_SENDER", "gateway")
    monkeypatch.setenv("FORMFLOW_STORAGE", "s3")
    settings = Settings()
    assert settings.identity_providers == ("oidc", "demo")
    assert (settings.elicence_provider, settings.sms_sender, settings.storage) == ("gov-http", "gateway", "s3")


def test_identity_providers_default_to_demo_when_demo_and_oidc_when_an_issuer_is_set(monkeypatch):
    monkeypatch.delenv("FORMFLOW_IDENTITY_PROVIDERS", raising=False)
    monkeypatch.delenv("FORMFLOW_OIDC_ISSUER", raising=False)
    assert Settings(load_demo=True).identity_providers == ("demo",)
    assert Settings(load_demo=False).identity_providers == ()
    monkeypatch.setenv("FORMFLOW_OIDC_ISSUER", "https://id.example.gov.cn/")
    settings = Settings(load_demo=False)
    assert settings.identity_providers == ("oidc",) and settings.oidc_issuer == "https://id.example.gov.cn"


# --------------------------------------------------------------------------- a new provider is one registered class


def test_an_sms_sender_registered_by_name_is_chosen_by_setting_and_sends_the_code(sqlite_platform, registered):
    registered(sms_senders, "test-outbox", Outbox)
    Outbox.sent.clear()
    web = WebClient(_app(sqlite_platform, sms_sender="test-outbox"))
    response = web.post("/auth/sms/send", {"mobile": "13912345678"})
    assert response.status_code == 200 and "验证码已发送至 139****5678" in response.get_data(as_text=True)
    [(mobile, text)] = Outbox.sent
    code = re.search(r"验证码为 (\d{6})", text).group(1)
    assert mobile == "13912345678"
    assert web.post("/auth/sms/login", {"mobile": mobile, "code": code}).status_code == 302


def test_an_elicence_provider_and_a_storage_registered_by_name_are_what_the_services_build(
        sqlite_platform, registered, tmp_path):
    class Gov:
        def __init__(self, settings, *, packs) -> None:
            self.packs = packs

        def fetch(self, source: str, id_number: str):
            return {"name": "测试"}

    class Elsewhere(LocalStorage):
        @classmethod
        def from_settings(cls, settings, **_context):
            return cls(tmp_path / "elsewhere")

    registered(elicence_providers, "test-gov", Gov)
    registered(storages, "test-elsewhere", Elsewhere)
    services = _app(sqlite_platform, elicence_provider="test-gov", storage="test-elsewhere"
                    ).extensions["formflow.services"]
    assert isinstance(services.elicence, Gov) and services.elicence.packs is sqlite_platform.packs
    assert services.storage.read(services.storage.write(b"%PDF-1.4")) == b"%PDF-1.4"
    assert (tmp_path / "elsewhere").is_dir()
    services.storage = sqlite_platform.storage  # the setter the test fixtures use still wins
    assert services.storage is sqlite_platform.storage


def test_a_plugin_module_named_by_an_entry_point_is_loaded_at_start(sqlite_platform, tmp_path, monkeypatch):
    (tmp_path / "mygov_formflow_plugins.py").write_text(
        "from formflow.auth.sms import sms_senders\n\n"
        "@sms_senders.register('test-mygov')\n"
        "class MyGov:\n"
        "    def __init__(self, settings):\n"
        "        self.sent = []\n"
        "    def send(self, mobile, text):\n"
        "        self.sent.append(text)\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    point = metadata.EntryPoint(name="mygov", value="mygov_formflow_plugins", group=plugins.ENTRY_POINTS)
    monkeypatch.setattr(metadata, "entry_points", lambda group=None: [point] if group == plugins.ENTRY_POINTS else [])
    monkeypatch.setattr(plugins, "_loaded_entry_points", False)
    try:
        services = _app(sqlite_platform, sms_sender="test-mygov").extensions["formflow.services"]
        assert type(services.sms).__name__ == "MyGov"
    finally:
        sms_senders.unregister("test-mygov")
        sys.modules.pop("mygov_formflow_plugins", None)


def test_a_plugin_module_that_cannot_be_loaded_refuses_the_start(tmp_path, shipped_packs, monkeypatch):
    point = metadata.EntryPoint(name="broken", value="no_such_module_formflow", group=plugins.ENTRY_POINTS)
    monkeypatch.setattr(metadata, "entry_points", lambda group=None: [point] if group == plugins.ENTRY_POINTS else [])
    monkeypatch.setattr(plugins, "_loaded_entry_points", False)
    message = _refusal(tmp_path, shipped_packs).message
    assert "插件模块 broken（no_such_module_formflow）无法载入" in message


# --------------------------------------------------------------------------- refusing to start

UNKNOWN = [
    pytest.param({"identity_providers": ("demo", "nowhere")}, identity_providers, "FORMFLOW_IDENTITY_PROVIDERS",
                 "身份认证方式", id="identity"),
    pytest.param({"elicence_provider": "nowhere"}, elicence_providers, "FORMFLOW_ELICENCE_PROVIDER",
                 "电子证照服务", id="elicence"),
    pytest.param({"sms_sender": "nowhere"}, sms_senders, "FORMFLOW_SMS_SENDER", "短信发送服务", id="sms"),
    pytest.param({"storage": "nowhere"}, storages, "FORMFLOW_STORAGE", "文件存储", id="storage"),
]


@pytest.mark.parametrize(("overrides", "registry", "setting", "kind"), UNKNOWN)
def test_an_unknown_name_refuses_to_start_with_the_known_names(tmp_path, shipped_packs, overrides, registry,
                                                               setting, kind):
    refusal = _refusal(tmp_path, shipped_packs, **overrides)
    known = "、".join(registry.names())
    assert f"{setting}：未知的{kind}“nowhere”，可选：{known}" in refusal.message
    assert refusal.message.startswith("formflow 未启动：配置有 1 个问题")
    assert refusal.code == "plugin_configuration"


def test_oidc_without_an_issuer_refuses_to_start_naming_the_setting(tmp_path, shipped_packs, monkeypatch):
    monkeypatch.setenv("FORMFLOW_IDENTITY_PROVIDERS", "demo,oidc")
    monkeypatch.delenv("FORMFLOW_OIDC_ISSUER", raising=False)
    monkeypatch.setenv("FORMFLOW_OIDC_CLIENT_ID", "formflow")
    monkeypatch.setenv("FORMFLOW_OIDC_CLIENT_SECRET", "s3cret")
    refusal = _refusal(tmp_path, shipped_packs)
    assert "未设置 FORMFLOW_OIDC_ISSUER：统一身份认证（OIDC）需要身份认证服务的地址" in refusal.message
    assert refusal.details["problems"] == [refusal.message.split("\n  ", 1)[1]]


def test_oidc_with_an_issuer_but_no_client_credentials_refuses_to_start(tmp_path, shipped_packs):
    refusal = _refusal(tmp_path, shipped_packs, identity_providers=("oidc",), oidc_issuer="id.example.gov.cn",
                       oidc_client_id="", oidc_client_secret="")
    assert "配置有 3 个问题" in refusal.message
    assert "FORMFLOW_OIDC_ISSUER“id.example.gov.cn”不是 https:// 地址" in refusal.message
    assert "未设置 FORMFLOW_OIDC_CLIENT_ID" in refusal.message
    assert "未设置 FORMFLOW_OIDC_CLIENT_SECRET" in refusal.message


def test_the_demo_identity_check_outside_a_demo_deployment_refuses_to_start(tmp_path, shipped_packs, monkeypatch):
    from support import TEST_KEYS

    monkeypatch.setenv("FORMFLOW_DATA_KEYS", TEST_KEYS)  # production keys in order: the identity check is refused
    refusal = _refusal(tmp_path, shipped_packs, load_demo=False, identity_providers=("demo",))
    assert "FORMFLOW_IDENTITY_PROVIDERS 选择了演示身份核验，只有演示部署（FORMFLOW_DEMO=1）才能使用" in refusal.message


def test_a_storage_folder_that_cannot_be_written_refuses_to_start(tmp_path, shipped_packs):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "files").write_text("not a folder")  # (chmod does not stop root, a file in the way does)
    settings = Settings(instance_dir=instance, database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with pytest.raises(PluginProblem) as caught:
        create_app(settings, packset=shipped_packs)
    assert f"FORMFLOW_INSTANCE：文件存储目录 {instance / 'files'} 无法写入" in caught.value.message


def test_a_registered_plugin_whose_own_check_fails_refuses_to_start(tmp_path, shipped_packs, registered):
    class Bucket(LocalStorage):
        @classmethod
        def check(cls, settings):
            return ["FORMFLOW_S3_BUCKET 未设置"]

    registered(storages, "test-bucket", Bucket)
    assert "FORMFLOW_S3_BUCKET 未设置" in _refusal(tmp_path, shipped_packs, storage="test-bucket").message


def test_every_problem_is_listed_at_once(tmp_path, shipped_packs):
    refusal = _refusal(tmp_path, shipped_packs, identity_providers=("oidc",), oidc_issuer="", oidc_client_id="x",
                       oidc_client_secret="y", sms_sender="nowhere", elicence_provider="nowhere")
    assert "配置有 3 个问题" in refusal.message
    for setting in ("FORMFLOW_OIDC_ISSUER", "FORMFLOW_SMS_SENDER", "FORMFLOW_ELICENCE_PROVIDER"):
        assert setting in refusal.message


def test_formflow_serve_refuses_before_migrating_or_serving(tmp_path, monkeypatch):
    import importlib

    from formflow import cli

    serving = importlib.import_module("formflow.cli.serve")  # (cli.serve is the click command)
    served = []
    monkeypatch.setattr(serving, "run", lambda *args: served.append(args))
    monkeypatch.setenv("FORMFLOW_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("FORMFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.sqlite3'}")
    monkeypatch.setenv("FORMFLOW_IDENTITY_PROVIDERS", "oidc")
    monkeypatch.delenv("FORMFLOW_OIDC_ISSUER", raising=False)
    result = CliRunner().invoke(cli.main, ["serve"])
    assert result.exit_code == 1
    assert "未设置 FORMFLOW_OIDC_ISSUER" in result.output
    assert not served and not (tmp_path / "serve.sqlite3").exists()


# --------------------------------------------------------------------------- what a person sees


def test_a_configured_oidc_is_offered_on_the_verification_page_in_the_persons_language(sqlite_platform):
    app = _app(sqlite_platform, identity_providers=("demo", "oidc"), **OIDC)
    assert isinstance(app.extensions["formflow.services"].identity["oidc"], OidcIdentityProvider)
    web = WebClient(app)
    citizen = next(a for a in sqlite_platform.demo_accounts if a.roles == [("citizen", None)])
    web.login(citizen.username, demo_password(citizen.username))
    page = web.get("/auth/verify").get_data(as_text=True)
    assert 'href="/auth/oidc/start">统一身份认证</a>' in page and 'id="verify-form"' in page
    english = web.get("/auth/verify", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'href="/auth/oidc/start">Unified identity authentication</a>' in english


def test_without_the_demo_identity_the_api_says_so(sqlite_platform):
    app = _app(sqlite_platform, identity_providers=("oidc",), **OIDC)
    client = app.test_client()
    citizen = next(a for a in sqlite_platform.demo_accounts if a.roles == [("citizen", None)])
    token = client.post("/api/v1/tokens", json={"username": citizen.username,
                                                "password": demo_password(citizen.username)}).get_json()
    response = client.post("/api/v1/me/identity", json={"consent": True, "name": "陈志强",
                                                        "id_number": "441402198803150314"},
                           headers={"Authorization": f"Bearer {token['access_token']}"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "identity_unavailable"
