"""`formflow allocation sync` and `formflow lottery verify <file>`."""

from __future__ import annotations

import click

from formflow.config import Settings


def register(main: click.Group) -> None:
    """Add the `allocation` and `lottery` groups to the `formflow` group."""

    @main.group()
    def allocation() -> None:
        """After approval: households, waiting list, subsidy roster, follow-up."""

    @allocation.command("sync")
    @click.option("--today", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="按此日期处理（默认：本地时区的今天）。")
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
            raise click.ClickException(f"配置包有 {len(packset.problems)} 个问题，请先修正（formflow check）")
        engine = make_engine(settings.database_url)
        try:
            report = run_sync(session_factory(engine), packset, today=day)
        finally:
            engine.dispose()
        click.echo(f"{day.isoformat()}：新建保障家庭档案 {len(report.created)} 户，"
                   f"核查结果处理 {len(report.applied)} 件，未处理 {len(report.skipped)} 件")
        for app_id, why in report.skipped.items():
            click.echo(f"  申请 {app_id}：{why}", err=True)

    @main.group()
    def lottery() -> None:
        """Lottery (抽签) tools."""

    @lottery.command("verify")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    def verify(file: str) -> None:
        """Recompute a published lottery from its JSON file alone; exit 1 when it does not check out."""
        from formflow.allocation.lottery import main as run

        raise SystemExit(run(["verify", file]))
