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
    """The working-day calendar of `pack`: national data, the pack's file, the database's overrides."""
    ext = formflow()
    if "calendars" not in ext:
        from formflow.calendars.overrides import calendars_with_overrides

        ext["calendars"] = calendars_with_overrides(ext["settings"].config_root, ext["sessions"])
    return ext["calendars"](pack)
