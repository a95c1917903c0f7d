"""`formflow storage migrate --to NAME`: copy every stored file to another storage, verified, resumable."""

from __future__ import annotations

import click

from formflow.config import Settings
from formflow.text.catalogue import _


def register(main: click.Group) -> None:
    @main.group()
    def storage() -> None:
        """File storage."""

    @storage.command("migrate")
    @click.option("--to", "target_name", required=True, help=_("The storage to copy to (e.g. s3)."))
    @click.option("--from", "source_name", default=None,
                  help=_("The storage to copy from (default: FORMFLOW_STORAGE)."))
    def migrate_files(target_name: str, source_name: str | None) -> None:
        """Copy every stored file to another storage; files already there are verified, not copied again."""
        from formflow.cli.progress import progress_bar
        from formflow.db import make_engine, session_factory
        from formflow.files.migrate import file_ids, migrate
        from formflow.files.storage import storages
        from formflow.plugins import PluginProblem

        settings = Settings()
        try:
            source = storages.create(source_name or settings.storage, settings)
            target = storages.create(target_name, settings)
        except PluginProblem as exc:
            click.echo(str(exc), err=True)
            raise SystemExit(2) from exc
        engine = make_engine(settings.database_url)
        try:
            sessions = session_factory(engine)
            with progress_bar(_("Copying files")) as step:
                step(0, len(file_ids(sessions)))
                report = migrate(sessions, source, target, progress=lambda _sha: step(1, 0))
        finally:
            engine.dispose()
        click.echo(_("%(total)s files: %(copied)s copied, %(present)s already there, %(failed)s failed "
                     "(every file read back and its hash checked)", total=report.total, copied=report.copied,
                     present=report.present, failed=len(report.failed)))
        for sha, error in report.failed.items():
            click.echo(f"  {sha}: {error}", err=True)
        if report.failed:
            raise SystemExit(1)
