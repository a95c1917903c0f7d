"""The SMS providers' settings (FORMFLOW_SMS_*), read once and checked at start.

`settings.sms_provider` holds an `SmsSettings`; every problem names its setting in
words a person reads, so a deployment with a wrong key or a missing template
refuses to start instead of failing at the first citizen.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from formflow.integrations.sms import SIGN_IN_CODE
from formflow.text.catalogue import _

TEMPLATES = "FORMFLOW_SMS_TEMPLATES"
RATE_LIMITS = "FORMFLOW_SMS_RATE_LIMITS"
UNITS = {"min": 60, "h": 3600, "day": 86400}
DEFAULT_LIMITS = "2/min,10/h,30/day"


@dataclass(frozen=True)
class Template:
    """A provider's approved template: its id and the order of its variables."""

    id: str
    params: tuple[str, ...] | None = None

    def ordered(self, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(name, value) in the template's order; every variable the template names must be there."""
        names = self.params if self.params is not None else tuple(values)
        missing = [name for name in names if name not in values]
        if missing:
            raise KeyError(", ".join(missing))
        return [(name, str(values[name])) for name in names]


@dataclass(frozen=True)
class RateLimit:
    count: int
    seconds: int


def parse_templates(raw: str) -> tuple[dict[str, Template], list[str]]:
    """FORMFLOW_SMS_TEMPLATES: JSON text, or the path of a JSON file, mapping kind → id or {id, params}."""
    text = raw.strip()
    if not text:
        return {}, []
    if not text.startswith("{"):
        path = Path(text)
        if not path.is_file():
            return {}, [_("%(setting)s: the file %(path)s does not exist", setting=TEMPLATES, path=text)]
        text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError as exc:
        return {}, [_("%(setting)s is not valid JSON: %(error)s", setting=TEMPLATES, error=exc)]
    if not isinstance(data, dict):
        return {}, [_("%(setting)s must map each message kind to a template", setting=TEMPLATES)]
    templates, problems = {}, []
    for kind, spec in data.items():
        if isinstance(spec, str) and spec.strip():
            templates[kind] = Template(spec.strip())
        elif (isinstance(spec, dict) and isinstance(spec.get("id"), str) and spec["id"].strip()
              and isinstance(spec.get("params", []), list)
              and all(isinstance(p, str) for p in spec.get("params", []))):
            params = spec.get("params")
            templates[kind] = Template(spec["id"].strip(), tuple(params) if params is not None else None)
        else:
            problems.append(_("%(setting)s: the template of \"%(kind)s\" must be a template id or "
                              "{\"id\": …, \"params\": [names…]}", setting=TEMPLATES, kind=kind))
    return templates, problems


def parse_limits(raw: str) -> tuple[tuple[RateLimit, ...], list[str]]:
    """FORMFLOW_SMS_RATE_LIMITS: "2/min,10/h,30/day" — at most so many sends to one number per period."""
    limits, problems = [], []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        match = re.fullmatch(r"(\d+)\s*/\s*(min|h|day)", part)
        if not match or int(match.group(1)) < 1:
            problems.append(_("%(setting)s: \"%(part)s\" is not a limit like 2/min, 10/h or 30/day",
                              setting=RATE_LIMITS, part=part))
            continue
        limits.append(RateLimit(int(match.group(1)), UNITS[match.group(2)]))
    return tuple(limits), problems


@dataclass
class SmsSettings:
    """Keys, sign name and templates of the chosen provider (FORMFLOW_SMS_*)."""

    access_key_id: str = ""
    access_key_secret: str = ""
    sign_name: str = ""
    #: Tencent Cloud's SmsSdkAppId
    sdk_app_id: str = ""
    region: str = ""
    #: endpoint override (tests, private clouds): "http://127.0.0.1:8080" or a host name
    endpoint: str = ""
    templates_raw: str = ""
    limits_raw: str = DEFAULT_LIMITS
    timeout_seconds: float = 10.0
    templates: dict[str, Template] = field(init=False, default_factory=dict)
    limits: tuple[RateLimit, ...] = field(init=False, default=())
    problems: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.templates, problems = parse_templates(self.templates_raw)
        self.limits, more = parse_limits(self.limits_raw)
        self.problems = problems + more

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmsSettings:
        env = os.environ if environ is None else environ
        try:
            timeout = float(env.get("FORMFLOW_SMS_TIMEOUT") or 10)
        except ValueError:
            timeout = -1.0
        made = cls(
            access_key_id=env.get("FORMFLOW_SMS_ACCESS_KEY_ID", ""),
            access_key_secret=env.get("FORMFLOW_SMS_ACCESS_KEY_SECRET", ""),
            sign_name=env.get("FORMFLOW_SMS_SIGN_NAME", ""),
            sdk_app_id=env.get("FORMFLOW_SMS_SDK_APP_ID", ""),
            region=env.get("FORMFLOW_SMS_REGION", ""),
            endpoint=env.get("FORMFLOW_SMS_ENDPOINT", ""),
            templates_raw=env.get(TEMPLATES, ""),
            limits_raw=env.get(RATE_LIMITS, DEFAULT_LIMITS),
            timeout_seconds=timeout,
        )
        return made

    def endpoint_parts(self) -> tuple[str, str] | None:
        """(protocol, host[:port]) of the override, or None for the provider's own endpoint."""
        if not self.endpoint:
            return None
        if "://" not in self.endpoint:
            return "https", self.endpoint.strip("/")
        parts = urlsplit(self.endpoint)
        return parts.scheme, parts.netloc

    def check(self, provider: str, *, needs_app_id: bool = False) -> list[str]:
        """The problems of these settings for `provider` (a title read by people)."""
        problems = list(self.problems)
        required = [("FORMFLOW_SMS_ACCESS_KEY_ID", self.access_key_id),
                    ("FORMFLOW_SMS_ACCESS_KEY_SECRET", self.access_key_secret),
                    ("FORMFLOW_SMS_SIGN_NAME", self.sign_name)]
        if needs_app_id:
            required.append(("FORMFLOW_SMS_SDK_APP_ID", self.sdk_app_id))
        for setting, value in required:
            if not value.strip():
                problems.append(_("%(setting)s is not set: %(provider)s needs it to send SMS",
                                  setting=setting, provider=provider))
        if SIGN_IN_CODE not in self.templates and not self.problems:
            problems.append(_("%(setting)s has no template for \"%(kind)s\" (the sign-in code)",
                              setting=TEMPLATES, kind=SIGN_IN_CODE))
        parts = self.endpoint_parts()
        if parts is not None and (parts[0] not in ("http", "https") or not parts[1]):
            problems.append(_("FORMFLOW_SMS_ENDPOINT \"%(value)s\" is not an http(s) address or a host name",
                              value=self.endpoint))
        if self.timeout_seconds <= 0:
            problems.append(_("FORMFLOW_SMS_TIMEOUT must be a number of seconds above 0"))
        return problems

    def template(self, kind: str | None) -> Template:
        """The template of `kind`, or SmsFailed (not retried: a setting is missing) naming the setting."""
        from formflow.integrations.sms import SmsFailed

        found = self.templates.get(kind or "")
        if found is None:
            raise SmsFailed(_("%(setting)s has no template for \"%(kind)s\"", setting=TEMPLATES, kind=kind or ""),
                            code="no_template", retry=False)
        return found


def provider_settings(settings: Any) -> SmsSettings:
    """`settings.sms_provider`, or one read from the environment when the settings carry none."""
    found = getattr(settings, "sms_provider", None)
    return found if isinstance(found, SmsSettings) else SmsSettings.from_env()
