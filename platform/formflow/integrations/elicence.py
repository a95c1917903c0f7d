"""E-licences (electronic licences): an identity card or household register fetched by ID number.

The portal prefills the fields marked `x-source` and the e-licence materials
from a provider, and fetches again on "fetch again". A provider answers
`fetch(source, id_number)` with the licence's data (a dict), `None` when the
person has no such licence, and raises `ElicenceUnavailable` when the service
cannot be reached, so the page can say "try again later" instead of "no licence".

The embedded default is `DemoElicenceProvider` (`demo`), built from the packs'
demo records (`seeds/<pack>/elicences.yaml`). A deployment connected to a real
e-licence service registers its own provider class in `elicence_providers`
(`@elicence_providers.register("gov-http")`, in a plug-in module found through
the `formflow.plugins` entry points; see `formflow.plugins`) and selects it with
`FORMFLOW_ELICENCE_PROVIDER`; the services build it (`services.elicence`), after
its `check(settings)` passed at start. `http` (`integrations.elicence_http`) asks a
real service whose endpoint, authentication and request/response mapping are
configuration (FORMFLOW_ELICENCE_HTTP).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from formflow.packs.loader import PackSet
from formflow.plugins import Registry
from formflow.text.catalogue import _, lazy

DEMO = "demo"
ENV_PROVIDER = "FORMFLOW_ELICENCE_PROVIDER"


class ElicenceUnavailable(Exception):
    """The e-licence service cannot answer now (outage, timeout); try again later."""

    def __init__(self, message: str | None = None) -> None:
        message = message or _("The e-licence service is unavailable for now; please click “Fetch again” later")
        super().__init__(message)
        self.message = message


@runtime_checkable
class ElicenceProvider(Protocol):
    """Where e-licences come from."""

    def fetch(self, source: str, id_number: str) -> dict[str, Any] | None:
        """The licence `source` (idcard, hukou, …) of the person `id_number`, or None if there is none.

        Raises ElicenceUnavailable when the service cannot be reached.
        """
        ...


def normalise_id_number(id_number: str) -> str:
    """Resident ID numbers compare with an upper-case check character and no spaces."""
    return "".join(str(id_number).split()).upper()


#: The e-licence providers, by name (`settings.elicence_provider` chooses one).
elicence_providers: Registry[ElicenceProvider] = Registry(lazy("e-licence provider"), ENV_PROVIDER)


@elicence_providers.register(DEMO)
class DemoElicenceProvider:
    """Demo records held in memory: {id_number: {source: data}}."""

    def __init__(self, records: Mapping[str, Mapping[str, Any]]) -> None:
        self._records = {normalise_id_number(k): dict(v) for k, v in records.items()}

    @classmethod
    def from_settings(cls, settings: Any, *, packs: PackSet, **_context: Any) -> DemoElicenceProvider:
        return cls.from_packset(packs)

    @classmethod
    def from_packset(cls, packset: PackSet) -> DemoElicenceProvider:
        """Every pack's `elicences.yaml` records (a later pack never silently replaces an earlier one)."""
        records: dict[str, dict[str, Any]] = {}
        for pack in packset.packs.values():
            content = pack.elicences.content if pack.elicences is not None else None
            if not isinstance(content, dict):
                continue
            for record in content.get("records") or []:
                if not isinstance(record, dict) or not record.get("id_number"):
                    continue
                number = normalise_id_number(record["id_number"])
                sources = {k: v for k, v in record.items() if isinstance(v, dict)}
                for source, data in sources.items():
                    records.setdefault(number, {}).setdefault(source, data)
        return cls(records)

    @property
    def id_numbers(self) -> list[str]:
        return sorted(self._records)

    @property
    def sources(self) -> set[str]:
        return {source for record in self._records.values() for source in record}

    def fetch(self, source: str, id_number: str) -> dict[str, Any] | None:
        data = self._records.get(normalise_id_number(id_number), {}).get(source)
        return copy.deepcopy(data) if isinstance(data, dict) else None


#: The old extension point's factory: (packset, settings) → provider.
ProviderFactory = Callable[[PackSet, Any], ElicenceProvider]
#: Read-only view kept for old callers; register through `elicence_providers`.
_FACTORIES = elicence_providers._makers


def register_provider(name: str, factory: ProviderFactory) -> None:
    """Make `factory(packset, settings)` selectable by `FORMFLOW_ELICENCE_PROVIDER=<name>`.

    Kept for plug-ins written before the registry; new ones register a class in `elicence_providers`."""

    def maker(settings: Any, *, packs: PackSet, **_context: Any) -> ElicenceProvider:
        return factory(packs, settings)

    elicence_providers.register(name)(maker)


def provider_from_settings(packset: PackSet, settings: Any = None) -> ElicenceProvider:
    """The configured provider: `settings.elicence_provider`, else $FORMFLOW_ELICENCE_PROVIDER, else demo.

    Refuses (`PluginProblem`, a ValueError) with the known names when the name is unknown."""
    name = getattr(settings, "elicence_provider", None) or os.environ.get(ENV_PROVIDER) or DEMO
    return elicence_providers.create(name, settings, packs=packset)


def _register_builtin_providers() -> None:
    from formflow.integrations import elicence_http  # noqa: F401 - registers "http"


_register_builtin_providers()

__all__ = [
    "DemoElicenceProvider",
    "ElicenceProvider",
    "ElicenceUnavailable",
    "elicence_providers",
    "normalise_id_number",
    "provider_from_settings",
    "register_provider",
]
