"""The services every use case is handed, built once in `create_app`.

One typed object instead of string-keyed dicts rebuilt per blueprint: the
clock (today and now, in the deployment zone; tests may fix them), settings,
packs, database sessions, personal-data keys, file storage, working-day
calendars, document renderers, and the providers chosen by settings
(identity, e-licence, SMS) through `formflow.plugins`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from formflow.config import Settings
    from formflow.packs.loader import PackSet
    from formflow.personal.crypto import DataKeys


@dataclass
class Clock:
    """Now and today in the deployment zone; `fixed_today`/`fixed_now` pin them (tests, demos)."""

    timezone: str = "Asia/Shanghai"
    fixed_today: date | Callable[[], date] | None = None
    fixed_now: datetime | Callable[[], datetime] | None = None

    def now(self) -> datetime:
        """The current instant (UTC, aware)."""
        fixed = self.fixed_now
        if fixed is not None:
            return fixed() if callable(fixed) else fixed
        return datetime.now(UTC)

    def today(self) -> date:
        """Today's date in the deployment zone."""
        fixed = self.fixed_today
        if fixed is not None:
            return fixed() if callable(fixed) else fixed
        return self.now().astimezone(ZoneInfo(self.timezone)).date()


@dataclass
class Services:
    settings: Settings
    packs: PackSet
    sessions: sessionmaker[Session]
    keys: DataKeys
    clock: Clock
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ lazily built parts

    @property
    def storage(self) -> Any:
        """Uploaded files (content-addressed), in the storage `settings.storage` chooses."""
        if "storage" not in self._cache:
            from formflow.files.storage import storages

            self._cache["storage"] = storages.create(self.settings.storage, self.settings)
        return self._cache["storage"]

    @storage.setter
    def storage(self, value: Any) -> None:
        self._cache["storage"] = value

    def calendar(self, pack: str) -> Any:
        """The working-day calendar of `pack`: national data, the pack's file, the database's overrides."""
        if "calendars" not in self._cache:
            from formflow.calendars.overrides import calendars_with_overrides

            self._cache["calendars"] = calendars_with_overrides(self.settings.config_root, self.sessions)
        return self._cache["calendars"](pack)

    def forget_calendars(self) -> None:
        """After `formflow calendar set` in this process."""
        self._cache.pop("calendars", None)

    @property
    def elicence(self) -> Any:
        """The e-licence provider `settings.elicence_provider` chooses."""
        if "elicence" not in self._cache:
            from formflow.integrations.elicence import elicence_providers

            self._cache["elicence"] = elicence_providers.create(self.settings.elicence_provider, self.settings,
                                                                packs=self.packs)
        return self._cache["elicence"]

    @elicence.setter
    def elicence(self, value: Any) -> None:
        self._cache["elicence"] = value

    @property
    def sms(self) -> Any:
        """The SMS sender `settings.sms_sender` chooses (`send(mobile, text)`)."""
        if "sms" not in self._cache:
            from formflow.auth.sms import sms_senders

            self._cache["sms"] = sms_senders.create(self.settings.sms_sender, self.settings)
        return self._cache["sms"]

    @sms.setter
    def sms(self, value: Any) -> None:
        self._cache["sms"] = value

    @property
    def identity(self) -> dict[str, Any]:
        """The identity providers `settings.identity_providers` offers, by name, in that order."""
        if "identity" not in self._cache:
            from formflow.auth.providers import identity_providers

            self._cache["identity"] = {name: identity_providers.create(name, self.settings, packs=self.packs)
                                       for name in self.settings.identity_providers or ()}
        return self._cache["identity"]

    @identity.setter
    def identity(self, value: dict[str, Any]) -> None:
        self._cache["identity"] = value

    @property
    def renderers(self) -> Path:
        """Templates for pages and documents."""
        return self.settings.renderers_dir

    def today(self) -> date:
        return self.clock.today()

    def now(self) -> datetime:
        return self.clock.now()


def plugin_problems(settings: Settings) -> list[str]:
    """Every problem of the plugins `settings` choose (unknown names, their own checks); empty: it can start."""
    from formflow.auth.providers import identity_providers
    from formflow.auth.sms import sms_senders
    from formflow.files.storage import storages
    from formflow.integrations.elicence import elicence_providers
    from formflow.plugins import load_entry_points

    problems = load_entry_points()
    chosen: list[tuple[Any, str]] = [(identity_providers, name) for name in settings.identity_providers or ()]
    chosen += [(elicence_providers, settings.elicence_provider), (sms_senders, settings.sms_sender),
               (storages, settings.storage)]
    from formflow.files.scanning import scanners

    chosen.append((scanners, getattr(settings, "scanner", "none") or "none"))
    for registry, name in chosen:
        problems += registry.problems(name, settings)
    return problems


def check_plugins(settings: Settings) -> None:
    """Refuse to start (`PluginProblem`) with every plugin problem of `settings`, each naming its setting."""
    problems = plugin_problems(settings)
    if problems:
        from formflow.plugins import PluginProblem
        from formflow.text.catalogue import _

        listing = "".join(f"\n  {problem}" for problem in problems)
        raise PluginProblem(_("formflow does not start: the settings have %(count)s problem(s):%(listing)s",
                              count=len(problems), listing=listing), problems=problems)


def current() -> Services:
    """The running app's services (inside a request or app context)."""
    from flask import current_app

    return current_app.extensions["formflow.services"]
