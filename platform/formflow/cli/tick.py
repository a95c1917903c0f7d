"""`formflow tick`: advance timers and mark overdue applications (run from cron, on any node)."""

from __future__ import annotations

from datetime import date

import click

from formflow.config import Settings
from formflow.text.catalogue import _


def register(main: click.Group) -> None:
    """Add the `tick` command to the `formflow` group."""

    @main.command()
    @click.option("--today", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help=_("Process as on this day (default: today in the local time zone)."))
    @click.option("--limit", type=int, default=None, help=_("At most this many applications in this run."))
    def tick(on, limit: int | None) -> None:
        """Expire due timer stages and mark overdue applications."""
        from formflow.calendars.overrides import calendars_with_overrides
        from formflow.calendars.workdays import today as local_today
        from formflow.db import make_engine, session_factory
        from formflow.notifications.daily import from_settings as daily_messages
        from formflow.workflow.timers import tick as run_tick

        settings = Settings()
        day: date = on.date() if on else local_today(settings.timezone)
        engine = make_engine(settings.database_url)
        try:
            sessions = session_factory(engine)
            daily_messages(settings, sessions, day)  # correction reminders, reviewers' digest (formflow.notifications)
            report = run_tick(sessions, today=day, calendar=calendars_with_overrides(settings.config_root, sessions),
                              limit=limit)
        finally:
            engine.dispose()
        click.echo(_("%(day)s: moved on at expiry %(expired)s, held by an objection %(blocked)s, newly overdue "
                     "%(overdue)s, being processed by another node %(skipped)s", day=day.isoformat(),
                     expired=len(report.expired), blocked=len(report.blocked), overdue=len(report.overdue),
                     skipped=len(report.skipped)))
        for app_id, error in report.failed.items():
            click.echo("  " + _("Application %(id)s failed: %(error)s", id=app_id, error=error), err=True)
        if report.failed:
            raise SystemExit(1)


def register_calendar(main: click.Group) -> None:
    """`formflow calendar set|list`: working-day corrections in the database."""

    @main.group()
    def calendar() -> None:
        """Working-day corrections (win over seeds/calendar and the packs' calendar.yaml)."""

    @calendar.command("set")
    @click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
    @click.argument("kind", type=click.Choice(["holiday", "workday"]))
    @click.argument("name")
    @click.option("--pack", default=None, help=_("Only for this locality pack (default: all)."))
    @click.option("--note", default=None)
    def set_day(day, kind: str, name: str, pack: str | None, note: str | None) -> None:
        """Make DAY a holiday or a working day, named NAME."""
        from formflow.calendars.overrides import KINDS, set_override
        from formflow.db import make_engine, session_factory, transaction

        engine = make_engine(Settings().database_url)
        with transaction(session_factory(engine)) as session:
            set_override(session, day.date(), kind, name, pack=pack, note=note)
        if pack:
            click.echo(_("%(day)s is now a %(kind)s (%(name)s), only for %(pack)s", day=day.date().isoformat(),
                         kind=KINDS[kind], name=name, pack=pack))
        else:
            click.echo(_("%(day)s is now a %(kind)s (%(name)s)", day=day.date().isoformat(), kind=KINDS[kind],
                         name=name))

    @calendar.command("list")
    def list_days() -> None:
        """Print the corrections in force."""
        from sqlalchemy import select

        from formflow.calendars.overrides import KINDS
        from formflow.db import make_engine, session_factory
        from formflow.db.models import CalendarOverride

        engine = make_engine(Settings().database_url)
        with session_factory(engine)() as session:
            for row in session.scalars(select(CalendarOverride).order_by(CalendarOverride.day)):
                click.echo(f"{row.day.isoformat()}  {KINDS[row.kind]}  {row.name}  {row.pack or _('all packs')}")
