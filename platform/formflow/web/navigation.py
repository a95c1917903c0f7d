"""The areas a signed-in person can reach, by role: the header links on every page."""

from __future__ import annotations

from flask import Flask, url_for

from formflow.auth.current import current_account
from formflow.auth.roles import ADMIN, AUDITOR, CITIZEN, CONFIGURATOR, WINDOW_CLERK
from formflow.text.catalogue import _


def areas() -> list[tuple[str, str]]:
    """(title, url) of each area for the signed-in account's roles."""
    account = current_account()
    if account is None:
        return []
    roles = {r.role for r in account.roles}
    links = [(_("My applications"), url_for("portal.my"))] if CITIZEN in roles else []
    if WINDOW_CLERK in roles:
        links.append((_("Window service"), url_for("portal.window")))
    if roles - {CITIZEN, WINDOW_CLERK, CONFIGURATOR, ADMIN, AUDITOR}:
        links += [(_("Reviews to do"), url_for("desk.queue")), (_("Housing security"), url_for("housing.index"))]
    if roles & {CONFIGURATOR, ADMIN}:
        links.append((_("Configuration"), url_for("admin.index")))
    if AUDITOR in roles:
        links.append((_("Security log"), url_for("audit.log")))
    return links


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"nav_areas": areas})
