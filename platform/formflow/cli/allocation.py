"""`formflow allocation sync` and `formflow lottery verify <file>`."""

from __future__ import annotations

import click

from formflow.config import Settings
from formflow.text.catalogue import _


def register(main: click.Group) -> None:
    """Add the `allocation` and `lottery` groups to the `formflow` group."""

    @main.group()
    def allocation() -> None:
        """After approval: households, waiting list, subsidy roster, follow-up."""

    @allocation.command("sync")
    @click.option("--today", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help=_("Process as on this day (default: today in the local time zone)."))
    def sync(on) -> None:
        """File newly approved households and apply closed follow-up outcomes (safe on every node)."""
        from formflow.allocation.register import sync as run_sync
        from formflow.calendars.workdays import today as local_today
        from formflow.db import make_engine, session_factory
        from formflow.packs import load_packs

        settings = Settings()
        day = on.date() if on else local_today(settings.timezone)
        packset = load_packs(settings.config_root)
        if packset.problems:
            raise click.ClickException(_("The packs have %(n)s problems; correct them first (formflow check)",
                                         n=len(packset.problems)))
        from formflow.cli.progress import progress_bar

        engine = make_engine(settings.database_url)
        try:
            with progress_bar(_("Filing approved households")) as step:
                report = run_sync(session_factory(engine), packset, today=day, progress=step)
        finally:
            engine.dispose()
        click.echo(_("%(day)s: new household files %(created)s, check outcomes applied %(applied)s, not processed "
                     "%(skipped)s", day=day.isoformat(), created=len(report.created), applied=len(report.applied),
                     skipped=len(report.skipped)))
        for app_id, why in report.skipped.items():
            click.echo("  " + _("Application %(id)s: %(why)s", id=app_id, why=why), err=True)

    @main.group()
    def lottery() -> None:
        """Lottery tools."""

    @lottery.command("verify")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    def verify(file: str) -> None:
        """Recompute a published lottery from its JSON file alone; exit 1 when it does not check out."""
        from formflow.allocation.lottery import main as run

        raise SystemExit(run(["verify", file]))
