"""One registry pattern for every pluggable part: identity providers, e-licence
providers, SMS senders, file storage, virus scanners, notification channels.

A kind of plugin is a `Registry` in the module of that kind
(`auth.providers.identity_providers`, `integrations.elicence.elicence_providers`,
`auth.sms.sms_senders`, `files.storage.storages`). An implementation is one
class registered under a name (`@storages.register("s3")`); a field of
`config.Settings` (read from a FORMFLOW_* variable) chooses the name.

A plugin class may have two classmethods:

- `check(settings)` returns the problems of its configuration, each naming the
  setting (`FORMFLOW_OIDC_ISSUER …`) in words a person reads. `create_app` and
  `formflow serve` run every chosen plugin's check first, so a misconfigured
  deployment refuses to start instead of failing at the first citizen.
- `from_settings(settings, **context)` builds it (otherwise the class itself is
  called so). `context` is what the services hand that kind (the packs, …).

Plugins outside the platform are found through the `formflow.plugins` entry
point group: a package declaring `[project.entry-points."formflow.plugins"]
mygov = "mygov.formflow_plugins"` has that module imported at start, and the
module's `@…register("name")` decorators do the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from formflow.text.catalogue import _
from formflow.text.errors import Refusal

T = TypeVar("T")
ENTRY_POINTS = "formflow.plugins"


class PluginProblem(Refusal, ValueError):
    """A plugin cannot be built from the settings (a ValueError: a setting holds a wrong value)."""

    code = "plugin_configuration"
    status = 500


class Registry(Generic[T]):
    """Implementations of one kind of plugin, by name; `setting` is the variable choosing one."""

    def __init__(self, kind: Any, setting: str | None = None) -> None:
        self.kind = kind
        self.setting = setting
        self._makers: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def wrap(maker: Callable[..., T]) -> Callable[..., T]:
            self._makers[name] = maker
            return maker

        return wrap

    def unregister(self, name: str) -> None:
        """Forget `name` (tests; a deployment never needs it)."""
        self._makers.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._makers)

    def __contains__(self, name: object) -> bool:
        return name in self._makers

    def problems(self, name: str, settings: Any) -> list[str]:
        """What is wrong with choosing `name` under `settings` (empty: it can start)."""
        maker = self._makers.get(name)
        if maker is None:
            names = _(", ").join(self.names())
            if self.setting:
                return [_("%(setting)s: unknown %(kind)s \"%(name)s\"; choose one of: %(names)s",
                          setting=self.setting, kind=self.kind, name=name, names=names)]
            return [_("Unknown %(kind)s \"%(name)s\"; choose one of: %(names)s",
                      kind=self.kind, name=name, names=names)]
        check = getattr(maker, "check", None)
        return [str(p) for p in check(settings)] if callable(check) else []

    def create(self, name: str, settings: Any, **context: Any) -> T:
        """Build the plugin `name`, refusing with every problem its own check finds."""
        problems = self.problems(name, settings)
        if problems:
            raise PluginProblem(_("; ").join(problems), kind=str(self.kind), name=name, problems=problems)
        maker = self._makers[name]
        build = getattr(maker, "from_settings", None) or maker
        return build(settings, **context)


_loaded_entry_points = False


def load_entry_points() -> list[str]:
    """Import the modules of the `formflow.plugins` entry points (once); the problems of those that fail."""
    global _loaded_entry_points
    if _loaded_entry_points:
        return []
    from importlib.metadata import entry_points

    problems = []
    for point in entry_points(group=ENTRY_POINTS):
        try:
            point.load()
        except Exception as exc:  # a broken plug-in must stop the start, with its name
            problems.append(_("The plugin module %(name)s (%(value)s) cannot be loaded: %(error)s",
                              name=point.name, value=point.value, error=exc))
    _loaded_entry_points = not problems
    return problems
