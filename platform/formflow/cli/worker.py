"""`formflow worker` (deliver the outbox) and `formflow outbox status|retry` (what failed, try it again).

On a terminal the worker shows a progress bar of the backlog (rich); otherwise
one summary line per batch, for logs.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from formflow.config import Settings
from formflow.text.catalogue import _


def _services(settings: Settings) -> Any:
    """The same services (storage, keys, renderers, providers) and handlers the web app has."""
    from formflow.app import create_app
    from formflow.outbox.worker import load_handlers

    app = create_app(settings)
    load_handlers()
    return app.extensions["formflow.services"]


def _summary(report: Any) -> str:
    return _("outbox batch: claimed %(claimed)s, delivered %(delivered)s, to retry %(retried)s, dead %(dead)s, "
             "taken over by another worker %(lost)s", claimed=report.claimed, delivered=report.delivered,
             retried=report.retried, dead=report.dead, lost=report.lost)


def _drain(services: Any, options: Any, *, tty: bool) -> int:
    """Batches until nothing is due; how many messages were delivered."""
    from formflow.outbox.worker import backlog, batches

    delivered = 0
    if not tty:
        for report in batches(services.sessions, services, options):
            delivered += report.delivered
            click.echo(_summary(report))
        return delivered
    from rich.progress import Progress

    with services.sessions() as session:
        due = backlog(session)
    if not due:
        return 0
    with Progress(transient=True) as progress:
        task = progress.add_task(_("Outbox"), total=due)
        for report in batches(services.sessions, services, options):
            delivered += report.delivered
            progress.update(task, advance=report.claimed, description=_(
                "Outbox: delivered %(delivered)s, to retry %(retried)s, dead %(dead)s",
                delivered=report.delivered, retried=report.retried, dead=report.dead))
    click.echo(_("Outbox: %(n)s delivered", n=delivered))
    return delivered


def register(main: click.Group) -> None:
    """Add `worker` and `outbox` to the `formflow` group."""

    @main.command()
    @click.option("--once", is_flag=True, help=_("Deliver what is due now, then exit."))
    @click.option("--batch", type=click.IntRange(min=1), default=None,
                  help=_("Messages claimed at once (default: FORMFLOW_WORKER_BATCH)."))
    @click.option("--poll", type=click.FloatRange(min=0.05), default=None,
                  help=_("Seconds between looks when idle (default: FORMFLOW_WORKER_POLL)."))
    def worker(once: bool, batch: int | None, poll: float | None) -> None:
        """Deliver the outbox (notices to render, messages to send); run any number, on any node."""
        from formflow.outbox.worker import Options

        settings = Settings()
        services = _services(settings)
        options = Options.from_settings(settings, batch=batch)
        interval = poll or settings.worker_poll_seconds
        tty = sys.stdout.isatty()
        try:
            while True:
                _drain(services, options, tty=tty)
                if once:
                    return
                time.sleep(interval)
        except KeyboardInterrupt:
            return

    @main.group()
    def outbox() -> None:
        """The outbox: counts, failures, retrying a dead message."""

    @outbox.command("status")
    @click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
                  help=_("At most this many failures listed."))
    def status(limit: int) -> None:
        """Messages per kind and status, then the failing and dead ones with their last error."""
        from formflow.db import make_engine, session_factory
        from formflow.outbox.admin import counts, failures

        engine = make_engine(Settings().database_url)
        try:
            with session_factory(engine)() as session:
                rows, failed = counts(session), failures(session, limit=limit)
        finally:
            engine.dispose()
        if not rows:
            click.echo(_("The outbox is empty."))
        for row in rows:
            click.echo(_("%(kind)s: pending %(pending)s (due now %(due)s), done %(done)s, dead %(dead)s",
                         kind=row.kind, pending=row.counts["pending"], due=row.due, done=row.counts["done"],
                         dead=row.counts["dead"]))
        for f in failed:
            click.echo("  " + _("#%(id)s %(kind)s %(status)s after %(attempts)s attempts: %(error)s", id=f.id,
                                kind=f.kind, status=f.status, attempts=f.attempts, error=f.last_error))

    @outbox.command("retry")
    @click.argument("message_id", type=int)
    def retry(message_id: int) -> None:
        """Make dead (or failing) message MESSAGE_ID due again now, its attempts reset."""
        from formflow.db import make_engine, session_factory, transaction
        from formflow.outbox.admin import retry as retry_message
        from formflow.text.errors import Refusal

        engine = make_engine(Settings().database_url)
        try:
            with transaction(session_factory(engine)) as session:
                message = retry_message(session, message_id)
                kind = message.kind
        except Refusal as exc:
            raise click.ClickException(exc.message) from None
        finally:
            engine.dispose()
        click.echo(_("Outbox message %(id)s (%(kind)s) is due again", id=message_id, kind=kind))
