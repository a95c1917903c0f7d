"""`formflow tick`: advance timers and mark overdue applications (run from cron, on any node)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

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
        from formflow.cli.progress import progress_bar

        engine = make_engine(settings.database_url)
        try:
            sessions = session_factory(engine)
            daily_messages(settings, sessions, day)  # correction reminders, reviewers' digest (formflow.notifications)
            with progress_bar(_("Timers and time limits")) as step:
                report = run_tick(sessions, today=day,
                                  calendar=calendars_with_overrides(settings.config_root, sessions),
                                  limit=limit, progress=step)
            _rescan(settings, sessions)
            from formflow.api.idempotency import prune

            with sessions.begin() as db:
                prune(db)  # stored API responses past FORMFLOW_IDEMPOTENCY_HOURS
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


def _rescan(settings: Settings, sessions) -> None:
    """Uploads held while the virus scanner was down, scanned again (`files.rescan`)."""
    from formflow.files.rescan import rescan_held
    from formflow.files.scanning import NoScanner, scanner_of
    from formflow.files.storage import storages

    scanner = scanner_of(settings)
    if isinstance(scanner, NoScanner):
        return
    report = rescan_held(sessions, storages.create(settings.storage, settings), scanner)
    if report.cleared or report.quarantined or report.still_held:
        click.echo(_("Held uploads scanned again: %(cleared)s clean, %(infected)s infected (quarantined), "
                     "%(held)s still held (the scanner did not answer)", cleared=len(report.cleared),
                     infected=len(report.quarantined), held=len(report.still_held)))


def _echo_recount(change) -> None:
    recount = change.recount
    click.echo(_("Deadlines counted again: %(checked)s running clocks, %(moved)s applications with a new date",
                 checked=recount.checked, moved=len(recount.moved)))


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
    @click.option("--today", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help=_("Recount deadlines as on this day (default: today in the local time zone)."))
    def set_day(day, kind: str, name: str, pack: str | None, note: str | None, on) -> None:
        """Make DAY a holiday or a working day, named NAME; running deadlines are counted again."""
        from formflow.calendars.overrides import KINDS
        from formflow.calendars.workdays import today as local_today
        from formflow.cli.progress import progress_bar
        from formflow.db import make_engine, session_factory
        from formflow.usecases.calendar import set_day as change_day

        settings = Settings()
        engine = make_engine(settings.database_url)
        try:
            with progress_bar(_("Counting running deadlines again")) as step:
                change = change_day(session_factory(engine), settings.config_root, day.date(), kind, name,
                                    pack=pack, note=note, today=on.date() if on else local_today(settings.timezone),
                                    progress=step)
        finally:
            engine.dispose()
        if pack:
            click.echo(_("%(day)s is now a %(kind)s (%(name)s), only for %(pack)s", day=day.date().isoformat(),
                         kind=KINDS[kind], name=name, pack=pack))
        else:
            click.echo(_("%(day)s is now a %(kind)s (%(name)s)", day=day.date().isoformat(), kind=KINDS[kind],
                         name=name))
        _echo_recount(change)

    @calendar.command("import")
    @click.argument("file", type=click.Path(path_type=Path))
    @click.option("--validate-only", is_flag=True, help=_("Check the file and store nothing."))
    @click.option("--by", default=None, help=_("Who is importing (recorded with the year)."))
    @click.option("--today", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help=_("Recount deadlines as on this day (default: today in the local time zone)."))
    def import_file(file: Path, validate_only: bool, by: str | None, on) -> None:
        """Load a year of holidays from FILE (the seeds/calendar shape); running deadlines are counted again."""
        from formflow.calendars.workdays import today as local_today
        from formflow.calendars.years import CalendarFileError
        from formflow.cli.progress import progress_bar
        from formflow.db import make_engine, session_factory
        from formflow.usecases.calendar import import_year

        settings = Settings()
        engine = make_engine(settings.database_url)
        try:
            with progress_bar(_("Counting running deadlines again")) as step:
                change = import_year(session_factory(engine), settings.config_root, file, by=by,
                                     today=on.date() if on else local_today(settings.timezone),
                                     validate_only=validate_only, progress=step)
        except CalendarFileError as exc:
            click.echo(exc.message, err=True)
            raise SystemExit(2) from exc
        finally:
            engine.dispose()
        for name in change.warnings:
            click.echo(_("Warning: %(holiday)s is not named in the file; check the notice", holiday=name), err=True)
        if validate_only:
            click.echo(_("%(year)s: the file is valid (nothing stored)", year=change.label))
            return
        if change.changed:
            click.echo(_("%(year)s: holidays loaded", year=change.label))
        else:
            click.echo(_("%(year)s: already loaded with the same dates; nothing changed", year=change.label))
        _echo_recount(change)

    @calendar.command("template")
    @click.argument("year", type=int)
    @click.option("--out", type=click.Path(path_type=Path), default=None, help=_("Write to this file."))
    def template_file(year: int, out: Path | None) -> None:
        """Print (or write) a year file to fill in from the State Council's notice."""
        from formflow.calendars.years import template

        text = template(year)
        if out is None:
            click.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")
            click.echo(_("Written: %(path)s", path=out))

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
