"""`formflow webhooks list|add|remove|test`: partner systems' subscriptions, from the command line.

Thin: each command parses its options and calls `formflow.webhooks.subscriptions`.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from formflow.config import Settings
from formflow.text.catalogue import _
from formflow.text.errors import Refusal


def _services(settings: Settings) -> Any:
    from formflow.db import make_engine, session_factory
    from formflow.packs import load_packs
    from formflow.personal.crypto import DataKeys, install
    from formflow.services import Clock, Services

    keys = DataKeys.from_environment(settings.instance_dir)
    install(keys)
    return Services(settings=settings, packs=load_packs(settings.config_root),
                    sessions=session_factory(make_engine(settings.database_url)), keys=keys,
                    clock=Clock(settings.timezone))


def _refused(refusal: Refusal) -> None:
    click.echo(refusal.message, err=True)
    sys.exit(2)


def register(main: click.Group) -> None:
    """Add the `webhooks` group to the `formflow` group."""

    @main.group()
    def webhooks() -> None:
        """Webhooks for partner systems (subscriptions per pack and event kind)."""

    @webhooks.command("list")
    @click.option("--pack", default=None, help=_("Only this pack's subscriptions."))
    def list_(pack: str | None) -> None:
        """The subscriptions, with their state and last delivery."""
        from formflow.webhooks import subscriptions as subs

        services = _services(Settings())
        with services.sessions() as db:
            rows = subs.list_subscriptions(db, [pack] if pack else None)
            for row in rows:
                last = subs.deliveries(db, [row.id], limit=1)
                answer = (str(last[0].status_code or _("No answer")) if last else "—")
                click.echo("\t".join([str(row.id), row.pack, _("On") if row.active else _("Off"), row.url,
                                       ",".join(row.event_kinds or []), answer]))
            if not rows:
                click.echo(_("No partner system is subscribed yet."))

    @webhooks.command("add")
    @click.option("--pack", required=True, help=_("The pack whose events are sent."))
    @click.option("--url", required=True, help=_("The partner's address (https://…)."))
    @click.option("--events", default="", help=_("History actions, separated by commas (default: all)."))
    @click.option("--title", default="", help=_("A name for the subscription."))
    @click.option("--secret", default=None, help=_("The shared secret (default: a random one, printed once)."))
    def add(pack: str, url: str, events: str, title: str, secret: str | None) -> None:
        """Subscribe a partner's URL to a pack's events; prints the secret once."""
        from formflow.db import transaction
        from formflow.webhooks import subscriptions as subs

        settings = Settings()
        services = _services(settings)
        try:
            with transaction(services.sessions) as db:
                made = subs.add(db, pack=pack, known_packs=list(services.packs.packs), url=url, kinds=events,
                                title=title, secret=secret, demo=settings.load_demo)
                row_id = made.subscription.id
        except Refusal as refusal:
            _refused(refusal)
            return
        click.echo(_("Subscription %(id)s added. Its secret (shown only now): %(secret)s", id=row_id,
                     secret=made.secret))

    @webhooks.command("remove")
    @click.argument("subscription_id", type=int)
    def remove(subscription_id: int) -> None:
        """Delete a subscription and its delivery log."""
        from formflow.db import transaction
        from formflow.webhooks import subscriptions as subs

        services = _services(Settings())
        try:
            with transaction(services.sessions) as db:
                subs.remove(db, subscription_id)
        except Refusal as refusal:
            _refused(refusal)
        click.echo(_("Subscription %(id)s removed.", id=subscription_id))

    @webhooks.command("test")
    @click.argument("subscription_id", type=int)
    def test(subscription_id: int) -> None:
        """Send a signed test event now and print the answer (exit 1 if it was not delivered)."""
        from formflow.db import transaction
        from formflow.webhooks import subscriptions as subs

        services = _services(Settings())
        try:
            with transaction(services.sessions) as db:
                attempt = subs.send_test(db, services, subscription_id)
        except Refusal as refusal:
            _refused(refusal)
            return
        if attempt.ok:
            click.echo(_("The test event was delivered (the receiver answered %(status)s).",
                         status=attempt.status_code))
        else:
            click.echo(_("The test event was not delivered: %(error)s", error=attempt.error or ""), err=True)
            sys.exit(1)
