"""`formflow export PACK --out FILE` and `formflow import FILE [--validate-only]`: configuration bundles.

Thin: each command parses its options and calls `formflow.packs.bundle` / `formflow.packs.importing`.
`import` exits 0 when the bundle is importable (and, without `--validate-only`, imported), 2 otherwise,
printing every problem with the file it is in.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from formflow.config import Settings
from formflow.text.catalogue import _


def _short(digest: str | None) -> str:
    return digest[:12] if digest else "—"


def _value(value: object) -> str:
    return "—" if value is None else str(value)


def describe(plan) -> list[str]:
    """The plan as lines for the terminal: versions, parameters, offices, files, in-flight applications."""
    lines = [_("Bundle %(file)s (SHA-256 %(sha)s): packs %(packs)s, made %(at)s by formflow %(version)s",
               file=plan.bundle.name, sha=plan.bundle.sha256, packs=", ".join(plan.packs),
               at=plan.bundle.manifest.get("created_at", "—"), version=plan.bundle.manifest.get("formflow_version",
                                                                                              "—"))]
    if plan.versions:
        lines.append(_("New versions:"))
        for v in plan.versions:
            lines.append("  " + _("%(pack)s/%(matter)s %(kind)s: %(old)s → %(new)s", pack=v.pack, matter=v.matter,
                                  kind=v.kind, old=_short(v.old), new=_short(v.new)))
    else:
        lines.append(_("No new versions: every form, workflow and table is as this environment has it."))
    if plan.parameters:
        lines.append(_("Parameters changed:"))
        for p in plan.parameters:
            lines.append("  " + _("%(pack)s %(id)s: %(old)s → %(new)s", pack=p.pack, id=p.id, old=_value(p.old),
                                  new=_value(p.new)))
    for title, rows in ((_("Offices added:"), plan.offices_added), (_("Offices removed:"), plan.offices_removed)):
        if rows:
            lines.append(title)
            lines.extend(f"  {o.pack} {o.id} {o.name}" for o in rows)
    for title, paths in ((_("Files added:"), plan.files_added), (_("Files changed:"), plan.files_changed),
                         (_("Files removed:"), plan.files_removed)):
        if paths:
            lines.append(title)
            lines.extend(f"  {path}" for path in paths)
    if not plan.changed:
        lines.append(_("The files are the same as this environment's: importing changes nothing."))
    for row in plan.in_flight:
        lines.append(_("%(pack)s/%(matter)s: %(submitted)s in-flight applications and %(drafts)s drafts stay on "
                       "their pinned versions", pack=row.pack, matter=row.matter, submitted=row.submitted,
                       drafts=row.drafts))
    if not plan.in_flight:
        lines.append(_("No in-flight applications of these packs."))
    return lines


def register(main: click.Group) -> None:
    """Add `export` and `import` to the `formflow` group."""

    @main.command("export")
    @click.argument("pack")
    @click.option("--out", type=click.Path(path_type=Path), required=True, help=_("The bundle file to write."))
    @click.option("--with-demo", is_flag=True, help=_("Also the demo accounts and demo e-licences."))
    def export(pack: str, out: Path, with_demo: bool) -> None:
        """Write the configuration of PACK (and the pack it extends) into one bundle file."""
        from formflow.packs.bundle import BundleError, write_bundle

        try:
            bundle = write_bundle(Settings().config_root, pack, out, with_demo=with_demo)
        except BundleError as exc:
            click.echo(exc.message, err=True)
            sys.exit(2)
        click.echo(_("Written: %(path)s (packs %(packs)s, %(count)s files, SHA-256 %(sha)s)", path=out,
                     packs=", ".join(bundle.packs), count=len(bundle.files), sha=bundle.sha256))

    @main.command("import")
    @click.argument("file", type=click.Path(path_type=Path))
    @click.option("--validate-only", is_flag=True, help=_("Check the bundle and show what would change; change "
                                                          "nothing."))
    @click.option("--by", default=None, help=_("Who is importing (recorded with the import)."))
    def import_(file: Path, validate_only: bool, by: str | None) -> None:
        """Check a bundle against this environment and publish it (files, versions, the import's record)."""
        from formflow.db import make_engine, session_factory
        from formflow.packs.bundle import BundleError, read_bundle
        from formflow.packs.importing import operator, plan, publish

        settings = Settings()
        engine = make_engine(settings.database_url)
        try:
            bundle = read_bundle(file)
            sessions = session_factory(engine)
            with sessions() as session:
                checked = plan(session, settings.config_root, bundle)
            if not checked.ok:
                raise checked.refusal()
            for line in describe(checked):
                click.echo(line)
            if validate_only:
                click.echo(_("The bundle can be imported (nothing was changed)."))
                return
            done = publish(sessions, settings.config_root, bundle, by=by or operator())
        except BundleError as exc:
            click.echo(exc.message, err=True)
            sys.exit(2)
        finally:
            engine.dispose()
        click.echo(_("Imported (record %(id)s). Restart the formflow processes of this configuration root to "
                     "serve the new versions; in-flight applications keep theirs.", id=done.record_id))
