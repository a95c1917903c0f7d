"""`formflow tick`: advance timers and mark overdue applications (run from cron, on any node)."""

from __future__ import annotations

from datetime import date

import click

from formflow.config import Settings


def register(main: click.Group) -> None:
    """Add the `tick` command to the `formflow` group."""

    @main.command()
    @click.option("--today", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="按此日期处理（默认：本地时区的今天）。")
    @click.option("--limit", type=int, default=None, help="本次最多处理的申请数。")
    def tick(on, limit: int | None) -> None:
        """Expire due timer stages and mark overdue applications."""
        from formflow.calendars.overrides import calendars_with_overrides
        from formflow.calendars.workdays import today as local_today
        from formflow.db import make_engine, session_factory
        from formflow.workflow.timers import tick as run_tick

        settings = Settings()
        day: date = on.date() if on else local_today(settings.timezone)
        engine = make_engine(settings.database_url)
        try:
            sessions = session_factory(engine)
            report = run_tick(sessions, today=day, calendar=calendars_with_overrides(settings.config_root, sessions),
                              limit=limit)
        finally:
            engine.dispose()
        click.echo(f"{day.isoformat()}：到期流转 {len(report.expired)} 件，异议阻止 {len(report.blocked)} 件，"
                   f"新增超期 {len(report.overdue)} 件，其他节点处理中 {len(report.skipped)} 件")
        for app_id, error in report.failed.items():
            click.echo(f"  申请 {app_id} 处理失败：{error}", err=True)
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
    @click.option("--pack", default=None, help="只对此地区配置包生效（默认：全部）。")
    @click.option("--note", default=None)
    def set_day(day, kind: str, name: str, pack: str | None, note: str | None) -> None:
        """Make DAY a holiday or a working day, named NAME."""
        from formflow.calendars.overrides import KINDS, set_override
        from formflow.db import make_engine, session_factory, transaction

        engine = make_engine(Settings().database_url)
        with transaction(session_factory(engine)) as session:
            set_override(session, day.date(), kind, name, pack=pack, note=note)
        click.echo(f"{day.date().isoformat()} 设为{KINDS[kind]}（{name}）{'，仅 ' + pack if pack else ''}")

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
                click.echo(f"{row.day.isoformat()}  {KINDS[row.kind]}  {row.name}  {row.pack or '全部'}")
