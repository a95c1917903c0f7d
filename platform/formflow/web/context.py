"""Access to what create_app wired: settings, packs, database sessions."""

from __future__ import annotations

from typing import Any

from flask import current_app


def formflow() -> dict[str, Any]:
    return current_app.extensions["formflow"]


def packs():
    return formflow()["packs"]


def sessions():
    return formflow()["sessions"]


def calendar_for(pack: str):
    """The working-day calendar of `pack` (national data plus its overrides), cached per app."""
    ext = formflow()
    if "calendars" not in ext:
        from formflow.workdays import pack_calendars

        ext["calendars"] = pack_calendars(ext["settings"].config_root)
    return ext["calendars"](pack)
