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
        """Uploaded files (content-addressed)."""
        if "storage" not in self._cache:
            from formflow.files.storage import LocalStorage

            self._cache["storage"] = LocalStorage(self.settings.instance_dir / "files")
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
        """The e-licence provider the settings choose."""
        if "elicence" not in self._cache:
            from formflow.integrations.elicence import provider_from_settings

            self._cache["elicence"] = provider_from_settings(self.packs, self.settings)
        return self._cache["elicence"]

    @elicence.setter
    def elicence(self, value: Any) -> None:
        self._cache["elicence"] = value

    @property
    def renderers(self) -> Path:
        """Templates for pages and documents."""
        return self.settings.renderers_dir

    def today(self) -> date:
        return self.clock.today()

    def now(self) -> datetime:
        return self.clock.now()


def current() -> Services:
    """The running app's services (inside a request or app context)."""
    from flask import current_app

    return current_app.extensions["formflow.services"]
