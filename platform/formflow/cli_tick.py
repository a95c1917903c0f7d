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
        from formflow.db import make_engine, session_factory
        from formflow.workdays import pack_calendars
        from formflow.workdays import today as local_today
        from formflow.workflow.timers import tick as run_tick

        settings = Settings()
        day: date = on.date() if on else local_today(settings.timezone)
        engine = make_engine(settings.database_url)
        try:
            report = run_tick(session_factory(engine), today=day,
                              calendar=pack_calendars(settings.config_root), limit=limit)
        finally:
            engine.dispose()
        click.echo(f"{day.isoformat()}：到期流转 {len(report.expired)} 件，异议阻止 {len(report.blocked)} 件，"
                   f"新增超期 {len(report.overdue)} 件，其他节点处理中 {len(report.skipped)} 件")
        for app_id, error in report.failed.items():
            click.echo(f"  申请 {app_id} 处理失败：{error}", err=True)
        if report.failed:
            raise SystemExit(1)
