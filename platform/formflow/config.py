"""Configuration: defaults for the embedded deployment, overridable by environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formflow.text.catalogue import _


def _default_root() -> Path:
    """The configuration root: the folder holding schemas/, workflows/, renderers/, seeds/."""
    env = os.environ.get("FORMFLOW_CONFIG_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


MIN_RETENTION_MONTHS = 6


def _sms_provider_settings() -> Any:
    from formflow.integrations.sms.settings import SmsSettings

    return SmsSettings.from_env()


def _names(value: str | None) -> tuple[str, ...] | None:
    """A list setting ("demo,oidc" or "demo oidc"); None when the variable is unset."""
    if value is None:
        return None
    return tuple(part for part in value.replace(",", " ").split() if part)


@dataclass
class Settings:
    """Everything a deployment can set; read from FORMFLOW_* environment variables."""

    config_root: Path = field(default_factory=_default_root)
    instance_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("FORMFLOW_INSTANCE", "instance")).resolve()
    )
    database_url: str = ""
    secret_key: str = field(default_factory=lambda: os.environ.get("FORMFLOW_SECRET_KEY", ""))
    upload_limit_bytes: int = field(
        default_factory=lambda: int(os.environ.get("FORMFLOW_UPLOAD_LIMIT", str(10 * 1024 * 1024)))
    )
    timezone: str = field(default_factory=lambda: os.environ.get("FORMFLOW_TZ", "Asia/Shanghai"))
    load_demo: bool = field(default_factory=lambda: os.environ.get("FORMFLOW_DEMO", "1") == "1")
    #: Secure cookies need HTTPS: on behind a TLS proxy, off for the embedded 127.0.0.1 default.
    secure_cookies: bool = field(default_factory=lambda: os.environ.get("FORMFLOW_SECURE_COOKIES", "0") == "1")

    #: How long history events and access records must be kept (months). Nothing in the
    #: application deletes them (the database refuses it); this states the promise and refuses less
    #: than the legal minimum.
    retention_months: int = field(default_factory=lambda: int(os.environ.get("FORMFLOW_RETENTION_MONTHS", "6")))

    #: How many reverse proxies in front are trusted to set X-Forwarded-For / -Proto (werkzeug ProxyFix);
    #: 0 (the default): the connecting address is the person's.
    trusted_proxies: int = field(default_factory=lambda: int(os.environ.get("FORMFLOW_TRUSTED_PROXIES", "0")))
    #: How many Argon2id password checks (64 MiB each) may run at once in one process (the others wait).
    argon2_concurrency: int = field(default_factory=lambda: int(os.environ.get("FORMFLOW_ARGON2_CONCURRENCY", "1")))
    #: `formflow serve` checks passwords and renders PDFs in one helper process beside its workers
    #: (formflow.sidecar) unless "0"
    serve_helper: bool = field(default_factory=lambda: os.environ.get("FORMFLOW_SERVE_HELPER", "1") != "0")
    #: How long an API response stored under an Idempotency-Key is replayed (hours), then pruned.
    idempotency_hours: int = field(default_factory=lambda: int(os.environ.get("FORMFLOW_IDEMPOTENCY_HOURS", "24")))
    #: Writes (POST/PUT/PATCH/DELETE) one account may make to the API per minute (per process).
    api_writes_per_minute: int = field(
        default_factory=lambda: int(os.environ.get("FORMFLOW_API_WRITES_PER_MINUTE", "60")))

    # ---- plugins (formflow.plugins): which implementation of each pluggable part; checked at start
    #: Identity providers offered for verification, in order (FORMFLOW_IDENTITY_PROVIDERS="demo,oidc").
    #: Unset: "demo" when the demo is loaded, plus "oidc" when FORMFLOW_OIDC_ISSUER is set.
    identity_providers: tuple[str, ...] | None = field(
        default_factory=lambda: _names(os.environ.get("FORMFLOW_IDENTITY_PROVIDERS")))
    elicence_provider: str = field(default_factory=lambda: os.environ.get("FORMFLOW_ELICENCE_PROVIDER") or "demo")
    sms_sender: str = field(default_factory=lambda: os.environ.get("FORMFLOW_SMS_SENDER") or "log")
    storage: str = field(default_factory=lambda: os.environ.get("FORMFLOW_STORAGE") or "local")
    #: The SMS providers' keys, sign name, templates and rate limits (FORMFLOW_SMS_*): integrations.sms.settings.
    sms_provider: Any = field(default_factory=lambda: _sms_provider_settings())
    #: Virus scanner of uploads (formflow.files.scanning): "none" or "clamav"; FORMFLOW_CLAMD is clamd's socket.
    scanner: str = field(default_factory=lambda: os.environ.get("FORMFLOW_SCANNER") or "none")
    clamd_address: str = field(default_factory=lambda: os.environ.get("FORMFLOW_CLAMD", ""))
    #: OpenID Connect (the "oidc" identity provider).
    oidc_issuer: str = field(default_factory=lambda: os.environ.get("FORMFLOW_OIDC_ISSUER", "").rstrip("/"))
    oidc_client_id: str = field(default_factory=lambda: os.environ.get("FORMFLOW_OIDC_CLIENT_ID", ""))
    oidc_client_secret: str = field(default_factory=lambda: os.environ.get("FORMFLOW_OIDC_CLIENT_SECRET", ""))
    oidc_id_claim: str = field(default_factory=lambda: os.environ.get("FORMFLOW_OIDC_ID_CLAIM") or "id_number")
    oidc_name_claim: str = field(default_factory=lambda: os.environ.get("FORMFLOW_OIDC_NAME_CLAIM") or "name")
    #: Further client ids an id_token shown to the API may be issued to (a mini-program's, an app's):
    #: FORMFLOW_OIDC_AUDIENCES="wx-miniprogram,app-android"; the client id itself is always accepted.
    oidc_audiences: tuple[str, ...] = field(
        default_factory=lambda: _names(os.environ.get("FORMFLOW_OIDC_AUDIENCES")) or ())

    # ---- the outbox worker (formflow.outbox.worker): `formflow worker` and the one embedded in `formflow serve`
    #: Run a worker thread inside each `formflow serve` process (FORMFLOW_EMBEDDED_WORKER=0 turns it off).
    embedded_worker: bool = field(default_factory=lambda: os.environ.get("FORMFLOW_EMBEDDED_WORKER", "1") != "0")
    #: Seconds between looks at the outbox when nothing woke the worker.
    worker_poll_seconds: float = field(default_factory=lambda: float(os.environ.get("FORMFLOW_WORKER_POLL", "2")))
    #: Messages claimed at once, and how long a claim holds before another worker may take it (seconds).
    worker_batch: int = field(default_factory=lambda: int(os.environ.get("FORMFLOW_WORKER_BATCH", "20")))
    worker_lease_seconds: float = field(default_factory=lambda: float(os.environ.get("FORMFLOW_WORKER_LEASE", "300")))
    #: Failed deliveries before a message is dead (shown on the admin page, retried by hand).
    outbox_max_attempts: int = field(default_factory=lambda: int(os.environ.get("FORMFLOW_OUTBOX_MAX_ATTEMPTS", "8")))

    def __post_init__(self) -> None:
        for value, variable in (
            (self.worker_poll_seconds, "FORMFLOW_WORKER_POLL"),
            (self.worker_batch, "FORMFLOW_WORKER_BATCH"),
            (self.worker_lease_seconds, "FORMFLOW_WORKER_LEASE"),
            (self.outbox_max_attempts, "FORMFLOW_OUTBOX_MAX_ATTEMPTS"),
        ):
            if value <= 0:
                raise ValueError(_("%(variable)s=%(value)s: must be greater than 0", variable=variable, value=value))
        if self.identity_providers is None:
            self.identity_providers = (("demo",) if self.load_demo else ()) + (("oidc",) if self.oidc_issuer else ())
        if self.retention_months < MIN_RETENTION_MONTHS:
            raise ValueError(_("FORMFLOW_RETENTION_MONTHS=%(months)s: history and access records must be kept "
                               "for at least %(minimum)s months", months=self.retention_months,
                               minimum=MIN_RETENTION_MONTHS))
        if not self.database_url:
            self.database_url = os.environ.get("FORMFLOW_DATABASE_URL") or (
                f"sqlite:///{self.instance_dir / 'formflow.sqlite3'}"
            )

    @property
    def schemas_dir(self) -> Path:
        return self.config_root / "schemas"

    @property
    def workflows_dir(self) -> Path:
        return self.config_root / "workflows"

    @property
    def seeds_dir(self) -> Path:
        return self.config_root / "seeds"

    @property
    def renderers_dir(self) -> Path:
        return self.config_root / "renderers"
