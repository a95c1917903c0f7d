"""A generic HTTP e-licence provider: endpoint, authentication, request and response mapping from a file.

`FORMFLOW_ELICENCE_PROVIDER=http` with `FORMFLOW_ELICENCE_HTTP=<file.yaml>`
describing the service (docs/formats.md "E-licence HTTP provider" shows the
national electronic-licence query shape as the example):

    endpoint: https://zzk.example.gov.cn/api/licence/query
    timeout_seconds: 5
    auth: {type: bearer, token_env: FORMFLOW_ELICENCE_TOKEN}   # or {type: header, name: X-App-Key, value_env: …}
    request:                                     # a JSON body; "{id_number}", "{licence_type}" are filled in
      body: {licenceTypeCode: "{licence_type}", holderIdentityNum: "{id_number}"}   # other keys as written
    found: {path: code, equals: "0"}             # otherwise: not found (None); HTTP 5xx / timeout: unavailable
    record: data.licenceData                     # where the licence's fields are in the answer
    sources:
      idcard: {licence_type: "111", fields: {name: holderName, id_number: holderIdentityNum, address: address}}
      hukou:  {licence_type: "112", fields: {household_head: hzxm, address: zz, members: cy}}

Each mapped field is a dotted path in the record; fields not mapped are left
out. The HTTP client is `requests` (a session per provider, keep-alive). Why
not a vendor SDK: every province's service has its own gateway; the request
and response shapes are what differs, and they are configuration here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from formflow.integrations.elicence import ElicenceUnavailable, elicence_providers
from formflow.text.catalogue import _

SETTING = "FORMFLOW_ELICENCE_HTTP"


def _dig(value: Any, path: str | None) -> Any:
    """`value` at dotted `path` (None when any step is missing); an empty path is the value itself."""
    for step in (path or "").split("."):
        if not step:
            continue
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def _fill(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, str):
        out = template
        for key, value in values.items():
            out = out.replace("{" + key + "}", value)
        return out
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    return template


def _read_config(path: str) -> tuple[dict[str, Any] | None, list[str]]:
    if not path:
        return None, [_("%(setting)s: name the file describing the e-licence service (FORMFLOW_ELICENCE_PROVIDER="
                        "http)", setting=SETTING)]
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        return None, [_("%(setting)s: %(path)s cannot be read (%(error)s)", setting=SETTING, path=path,
                        error=type(exc).__name__)]
    problems = []
    if not isinstance(doc, dict):
        return None, [_("%(setting)s: %(path)s should be a mapping", setting=SETTING, path=path)]
    if not str(doc.get("endpoint") or "").startswith(("http://", "https://")):
        problems.append(_("%(setting)s: %(path)s: endpoint should be an http(s) address", setting=SETTING, path=path))
    sources = doc.get("sources")
    if not isinstance(sources, dict) or not sources:
        problems.append(_("%(setting)s: %(path)s: sources should map each licence (idcard, hukou…) to its "
                          "licence_type and fields", setting=SETTING, path=path))
    else:
        for name, spec in sources.items():
            if not isinstance(spec, dict) or not isinstance(spec.get("fields"), dict):
                problems.append(_("%(setting)s: %(path)s: sources.%(name)s needs fields", setting=SETTING,
                                  path=path, name=name))
    auth = doc.get("auth") or {}
    for key in ("token_env", "value_env"):
        env = auth.get(key) if isinstance(auth, dict) else None
        if env and not os.environ.get(env):
            problems.append(_("%(setting)s: %(path)s: auth.%(key)s names %(env)s, which is not set",
                              setting=SETTING, path=path, key=key, env=env))
    return (doc if not problems else None), problems


@elicence_providers.register("http")
@dataclass
class HttpElicenceProvider:
    """Asks a real e-licence service over HTTP, as its configuration file describes."""

    config: dict[str, Any]

    @classmethod
    def check(cls, settings: Any) -> list[str]:
        return _read_config(os.environ.get(SETTING, ""))[1]

    @classmethod
    def from_settings(cls, settings: Any, **_context: Any) -> HttpElicenceProvider:
        config, problems = _read_config(os.environ.get(SETTING, ""))
        if config is None:
            raise ValueError("; ".join(problems))
        return cls(config)

    def __post_init__(self) -> None:
        import requests

        self._session = requests.Session()

    def _headers(self) -> dict[str, str]:
        auth = self.config.get("auth") or {}
        kind = auth.get("type")
        if kind == "bearer":
            return {"Authorization": f"Bearer {os.environ.get(auth.get('token_env', ''), '')}"}
        if kind == "header":
            return {str(auth.get("name")): os.environ.get(auth.get("value_env", ""), "")}
        return {}

    @property
    def sources(self) -> set[str]:
        return set(self.config.get("sources") or {})

    def fetch(self, source: str, id_number: str) -> dict[str, Any] | None:
        import requests

        spec = (self.config.get("sources") or {}).get(source)
        if spec is None:
            return None
        body = _fill((self.config.get("request") or {}).get("body") or {},
                     {"id_number": id_number, "licence_type": str(spec.get("licence_type", source))})
        try:
            answer = self._session.post(self.config["endpoint"], json=body, headers=self._headers(),
                                        timeout=float(self.config.get("timeout_seconds", 5)))
        except requests.RequestException as exc:
            raise ElicenceUnavailable() from exc
        if answer.status_code >= 500 or answer.status_code in (401, 403, 429):
            raise ElicenceUnavailable()
        if answer.status_code == 404:
            return None
        try:
            doc = answer.json()
        except ValueError as exc:
            raise ElicenceUnavailable() from exc
        found = self.config.get("found") or {}
        if found.get("path") and str(_dig(doc, found["path"])) != str(found.get("equals")):
            return None
        record = _dig(doc, self.config.get("record"))
        if not isinstance(record, dict):
            return None
        out = {key: _dig(record, path) for key, path in (spec.get("fields") or {}).items()}
        return {k: v for k, v in out.items() if v is not None}
