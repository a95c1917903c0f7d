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
