"""Access to what create_app wired: settings, packs, database sessions."""

from __future__ import annotations

from typing import Any

from flask import current_app


def formflow() -> dict[str, Any]:
    return current_app.extensions["formflow"]


def packs():
    return services().packs


def sessions():
    return services().sessions


def services():
    """The typed services object built by create_app."""
    from formflow.services import current

    return current()


def calendar_for(pack: str):
    """The working-day calendar of `pack`: national data, the pack's file, the database's overrides."""
    return services().calendar(pack)


def today():
    """Today in the deployment's zone (the services' clock: tests may fix it)."""
    return services().today()
