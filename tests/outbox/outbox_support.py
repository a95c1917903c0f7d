"""Outbox test support: a services object for the worker."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace


def services_of(platform, renderers: Path | None = None) -> SimpleNamespace:
    """What handlers are handed: storage, keys, renderers (the shipped ones unless given)."""
    return SimpleNamespace(sessions=platform.sessions, storage=platform.storage, keys=platform.keys,
                           renderers=renderers or platform.root / "renderers", packs=platform.packs)
