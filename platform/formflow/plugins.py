"""One registry pattern for every pluggable part: identity providers, e-licence
providers, SMS senders, file storage, virus scanners, notification channels.

A kind of plugin is a `Registry`; an implementation registers under a name
(`@storage.register("s3")`); settings choose the name; `create(name, settings)`
builds it, and the plugin's `check(settings)` (a classmethod returning the
problems of its configuration, in words a person reads) runs at start so a
misconfigured deployment refuses to start with a clear message instead of
failing at the first citizen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from formflow.text.catalogue import _
from formflow.text.errors import Refusal

T = TypeVar("T")


class PluginProblem(Refusal):
    code = "plugin_configuration"
    status = 500


class Registry(Generic[T]):
    """Implementations of one kind of plugin, by name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._makers: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def wrap(maker: Callable[..., T]) -> Callable[..., T]:
            self._makers[name] = maker
            return maker

        return wrap

    def names(self) -> list[str]:
        return sorted(self._makers)

    def problems(self, name: str, settings: Any) -> list[str]:
        """What is wrong with choosing `name` under `settings` (empty: it can start)."""
        maker = self._makers.get(name)
        if maker is None:
            return [_("Unknown %(kind)s \"%(name)s\"; choose one of: %(names)s",
                      kind=self.kind, name=name, names=", ".join(self.names()))]
        check = getattr(maker, "check", None)
        return list(check(settings)) if callable(check) else []

    def create(self, name: str, settings: Any, **kwargs: Any) -> T:
        """Build the plugin `name`, refusing with every problem its own check finds."""
        problems = self.problems(name, settings)
        if problems:
            raise PluginProblem(_("; ").join(problems), kind=self.kind, name=name)
        return self._makers[name](settings, **kwargs)
