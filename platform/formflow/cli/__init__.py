"""The `formflow` command: check packs, migrate, load, serve."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from formflow.config import Settings
from formflow.text.catalogue import _


def _resolve_targets(paths: tuple[str, ...], default_root: Path) -> list[tuple[Path, list[str] | None]]:
    """Each PATH is a configuration root (has schemas/) or a pack folder schemas/<id>."""
    if not paths:
        return [(default_root, None)]
    targets: list[tuple[Path, list[str] | None]] = []
    for raw in paths:
        path = Path(raw).resolve()
        if (path / "schemas").is_dir():
            targets.append((path, None))
        elif path.parent.name == "schemas" and path.is_dir():
            targets.append((path.parent.parent, [path.name]))
        else:
            raise click.UsageError(_(
                "%(path)s: neither a configuration root (with schemas/) nor a locality pack folder schemas/<id>",
                path=raw))
    return targets


@click.group()
def main() -> None:
    """formflow — a low-code form and approval platform."""


@main.command()
@click.argument("paths", nargs=-1)
@click.option("--explain", "explain_pack", metavar="PACK", default=None,
              help="List what PACK inherits from the pack it extends, and what it overrides and adds.")
def check(paths: tuple[str, ...], explain_pack: str | None) -> None:
    """Validate locality packs: exit 0 with a summary per pack, or 2 listing every problem."""
    from formflow.packs import load_packs
    from formflow.packs.checks.grants import drop_granted, granted_roles
    from formflow.packs.summary import summarize

    if explain_pack is not None:
        _explain(paths, explain_pack)
    failed = False
    granted = granted_roles(Settings().database_url)  # roles granted in the database count as held
    for root, only in _resolve_targets(paths, Settings().config_root):
        packset = load_packs(root, only)
        drop_granted(packset, granted)
        if packset.problems:
            failed = True
            click.echo(_("%(root)s: %(n)s problems found", root=root, n=len(packset.problems)), err=True)
            for problem in packset.problems:
                click.echo(f"  {problem}", err=True)
        else:
            for pack in packset.packs.values():
                click.echo(summarize(pack))
        for problem in packset.warnings:  # after the errors; they do not make the check fail
            click.echo("  " + _("Warning: %(warning)s", warning=problem), err=True)
        for warning in _calendar_warnings(root, list(packset.packs)):
            click.echo(_("Warning: %(warning)s", warning=warning), err=True)
    sys.exit(2 if failed else 0)


def _explain(paths: tuple[str, ...], pack_id: str) -> None:
    """`formflow check --explain PACK`: the effective pack's origin, per file kind and id; exit 2 on problems."""
    from formflow.packs import load_packs
    from formflow.packs.inherit import explain

    root = _resolve_targets(paths, Settings().config_root)[0][0]
    packset = load_packs(root, [pack_id])
    for problem in packset.problems:
        click.echo(f"  {problem}", err=True)
    if pack_id in packset.packs:
        for line in explain(packset.packs[pack_id]):
            click.echo(line)
    sys.exit(2 if packset.problems or pack_id not in packset.packs else 0)


def _calendar_warnings(root: Path, pack_ids: list[str]) -> list[str]:
    """Next year's holiday data missing (from 1 October), as the seed files and the database say."""
    from formflow.calendars.workdays import pack_calendars
    from formflow.calendars.workdays import today as local_today
    from formflow.calendars.years import next_year_warning

    settings = Settings()
    today = local_today(settings.timezone)
    calendars = pack_calendars(root)
    found = {next_year_warning(calendars(p), today) for p in pack_ids}
    if found == {None} or not _database_exists(settings.database_url):
        return sorted(w for w in found if w)
    from sqlalchemy.exc import SQLAlchemyError

    from formflow.calendars.overrides import calendar_in
    from formflow.db import make_engine, session_factory

    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:  # a year imported into the database counts too
            found = {next_year_warning(calendar_in(session, p, calendars), today) for p in pack_ids}
    except SQLAlchemyError:  # not migrated yet: the seed files alone
        pass
    finally:
        engine.dispose()
    return sorted(w for w in found if w)


def _database_exists(url: str) -> bool:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return not parsed.drivername.startswith("sqlite") or bool(parsed.database and Path(parsed.database).is_file())


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database to the latest schema."""
    from formflow.db import make_engine
    from formflow.db.migrate import current_revision, upgrade

    settings = Settings()
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    click.echo(_("The database is at the latest version %(revision)s: %(url)s", revision=current_revision(engine),
                 url=engine.url.render_as_string()))


def _prepare(settings: Settings, demo: bool):
    """Migrate, check packs (fail fast), load offices and demo accounts."""
    from formflow.db import make_engine, session_factory, transaction
    from formflow.db.migrate import upgrade
    from formflow.packs import load_packs
    from formflow.packs.seeding import load_all
    from formflow.personal.crypto import DataKeys, install

    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    packset = load_packs(settings.config_root)
    if packset.problems:
        for problem in packset.problems:
            click.echo(f"  {problem}", err=True)
        raise click.ClickException(_("The packs have %(n)s problems; correct them first (formflow check)",
                                     n=len(packset.problems)))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    keys = DataKeys.from_environment(settings.instance_dir)
    install(keys)
    with transaction(session_factory(engine)) as session:
        accounts = load_all(session, packset, keys, demo=demo)
    return packset, accounts


def _office_names(packset) -> dict[str, str]:
    names: dict[str, str] = {}
    for pack in packset.packs.values():
        stack = list((pack.offices.content if pack.offices else {}).get("offices") or [])
        while stack:
            node = stack.pop()
            names[str(node["id"])] = node["name"]
            stack.extend(node.get("children") or [])
    return names


def _print_accounts(accounts, packset) -> None:
    """Every demo account with its password, roles and offices (for the embedded default only)."""
    if not accounts:
        return
    names = _office_names(packset)
    click.echo(_("Demo accounts (for the embedded demo deployment only):"))
    for account in accounts:
        roles = _(", ").join(_("%(role)s (%(office)s)", role=r, office=names.get(o, o)) if o else r
                             for r, o in account.roles)
        click.echo("  " + _("%(username)s password %(password)s %(name)s: %(roles)s",
                            username=f"{account.username:<22}", password=f"{account.password:<20}",
                            name=account.name, roles=roles))


@main.command()
@click.option("--demo/--no-demo", default=None, help="Load demo accounts (default: FORMFLOW_DEMO, on).")
def load(demo: bool | None) -> None:
    """Load offices of every pack, and demo accounts."""
    settings = Settings()
    packset, accounts = _prepare(settings, settings.load_demo if demo is None else demo)
    click.echo(_("%(n)s locality packs loaded", n=len(packset.packs)))
    _print_accounts(accounts, packset)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=lambda: int(os.environ.get("PORT", "5000")), show_default="PORT or 5000")
@click.option("--workers", default=2, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Migrate, load packs and demo data, print the demo accounts, and serve."""
    settings = Settings()
    from formflow.plugins import PluginProblem
    from formflow.services import check_plugins

    try:
        check_plugins(settings)
    except PluginProblem as exc:
        raise click.ClickException(exc.message) from None
    packset, accounts = _prepare(settings, settings.load_demo)
    click.echo(_("formflow is running: %(url)s", url=f"http://{host}:{port}/"))
    _print_accounts(accounts, packset)
    from formflow.cli.serve import run

    run(host, port, workers)


@main.command()
def accounts() -> None:
    """Print the demo accounts of every pack."""
    from formflow.packs import load_packs
    from formflow.packs.seeding import demo_accounts

    packset = load_packs(Settings().config_root)
    _print_accounts([a for p in packset.packs.values() for a in demo_accounts(p)], packset)


@main.group()
def roles() -> None:
    """Grant and revoke roles (every change ends the account's sessions)."""


def _change_role(grant: bool, username: str, role: str, office: str | None) -> None:
    from formflow.auth.grants import GrantError, grant_role, revoke_role
    from formflow.db import make_engine, session_factory, transaction

    engine = make_engine(Settings().database_url)
    try:
        with transaction(session_factory(engine)) as session:
            (grant_role if grant else revoke_role)(session, username, role, office)
    except GrantError as exc:
        raise click.ClickException(str(exc)) from None
    if grant and office:
        done = _("%(username)s: granted %(role)s (%(office)s); every sign-in of the account has ended",
                 username=username, role=role, office=office)
    elif grant:
        done = _("%(username)s: granted %(role)s; every sign-in of the account has ended", username=username, role=role)
    elif office:
        done = _("%(username)s: revoked %(role)s (%(office)s); every sign-in of the account has ended",
                 username=username, role=role, office=office)
    else:
        done = _("%(username)s: revoked %(role)s; every sign-in of the account has ended", username=username, role=role)
    click.echo(done)


@roles.command("grant")
@click.argument("username")
@click.argument("role")
@click.option("--office", default=None, help="The office id the role is held at.")
def grant(username: str, role: str, office: str | None) -> None:
    """Grant ROLE to USERNAME."""
    _change_role(True, username, role, office)


@roles.command("revoke")
@click.argument("username")
@click.argument("role")
@click.option("--office", default=None, help="Only the grant at this office.")
def revoke(username: str, role: str, office: str | None) -> None:
    """Revoke ROLE from USERNAME."""
    _change_role(False, username, role, office)


@main.command()
def retention() -> None:
    """How long records are kept, and the oldest ones held (nothing in formflow deletes them)."""
    from sqlalchemy import func, select

    from formflow.db import make_engine, session_factory
    from formflow.db.models import AccessRecord, Event

    settings = Settings()
    engine = make_engine(settings.database_url)
    click.echo(_("Kept for: at least %(months)s months (FORMFLOW_RETENTION_MONTHS); the database refuses to change "
                 "or delete the history and the access records", months=settings.retention_months))
    with session_factory(engine)() as session:
        records = ((_("History"), Event, Event.at), (_("Access records"), AccessRecord, AccessRecord.at))
        for title, model, column in records:
            count, oldest = session.execute(select(func.count(), func.min(column)).select_from(model)).one()
            click.echo("  " + _("%(title)s: %(count)s, the oldest %(oldest)s", title=title, count=count,
                                oldest=oldest.date().isoformat() if oldest else "—"))


def _register_more() -> None:
    from formflow.cli import allocation, storage, tick

    tick.register(main)
    tick.register_calendar(main)
    allocation.register(main)
    storage.register(main)
    __import__("formflow.cli.webhooks", fromlist=["register"]).register(main)
    __import__("formflow.cli.worker", fromlist=["register"]).register(main)  # worker, outbox (h1)
    __import__("formflow.cli.bundles", fromlist=["register"]).register(main)  # export, import (hf)


_register_more()

if __name__ == "__main__":  # pragma: no cover
    main()
