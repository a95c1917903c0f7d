"""The configurator's bundle page of a pack: download an export, upload a bundle, see the diff, confirm, import.

Only configurators who configure the pack see it (others: 404, as every admin page), and a bundle is
imported only when every pack it carries is one they configure (403 otherwise). The upload is checked
(`packs.bundle.read_bundle`, `packs.importing.plan`) and kept under the instance folder by its SHA-256
until the configurator confirms on the diff page; the import itself is `packs.importing.publish`, after
which this process serves the new packs. Every form carries the CSRF token.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Response, abort, flash, redirect, render_template, request, url_for

from formflow.auth.current import role_required, signed_in_account
from formflow.auth.roles import CONFIGURATOR
from formflow.documents.exports import download_headers
from formflow.packs.bundle import Bundle, BundleError, bundle_bytes, read_bundle
from formflow.packs.importing import imports, plan, publish, reload_services
from formflow.text.catalogue import _
from formflow.text.errors import Forbidden, Refusal
from formflow.web.admin import _mine, _pack, bp
from formflow.web.context import services, sessions

SHA256 = re.compile(r"^[0-9a-f]{64}$")


#: An uploaded bundle waits this long for its confirmation, then is deleted.
KEEP_UPLOADS_SECONDS = 24 * 3600


def _uploads() -> Path:
    """The folder uploads wait in for their confirmation (those left unconfirmed a day are deleted)."""
    import time

    folder = services().settings.instance_dir / "bundles"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.zip"):
        if old.stat().st_mtime < time.time() - KEEP_UPLOADS_SECONDS:
            old.unlink(missing_ok=True)
    return folder


def _in_scope(pack_id: str, bundle: Bundle) -> None:
    """The bundle must carry this page's pack, and only packs the configurator configures."""
    if pack_id not in bundle.packs:
        raise BundleError(_("%(file)s carries the packs %(packs)s, not %(pack)s", file=bundle.name,
                            packs=", ".join(bundle.packs), pack=pack_id), file=bundle.name)
    mine = _mine()
    outside = [p for p in bundle.packs if mine is not None and p not in mine]
    if outside:
        raise Forbidden(_("%(file)s also carries %(packs)s, which you do not configure: it cannot be imported "
                          "here", file=bundle.name, packs=", ".join(outside)))


def _page(pack_id: str, *, error: Refusal | None = None, status: int = 200):
    pack = _pack(pack_id)
    with sessions()() as db:
        history = imports(db, [pack_id])
    return render_template("admin/bundles.html", pack=pack, history=history, error=error), status


@bp.get("/<pack_id>/bundles")
@role_required(CONFIGURATOR)
def bundles(pack_id: str):
    return _page(pack_id)


@bp.get("/<pack_id>/bundles/export.zip")
@role_required(CONFIGURATOR)
def bundle_export(pack_id: str):
    _pack(pack_id)
    with_demo = request.args.get("with_demo") == "1"
    root = services().settings.config_root
    try:
        data = bundle_bytes(root, pack_id, with_demo=with_demo, now=services().now())
    except BundleError as refusal:
        return _page(pack_id, error=refusal, status=refusal.status)
    stamp = services().now().strftime("%Y%m%d-%H%M%S")
    response = Response(data, mimetype="application/zip")
    response.headers.update(download_headers(f"{pack_id}-{stamp}.zip", fallback="bundle"))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<pack_id>/bundles/check")
@role_required(CONFIGURATOR)
def bundle_check(pack_id: str):
    pack = _pack(pack_id)
    upload = request.files.get("bundle")
    if upload is None or not upload.filename:
        return _page(pack_id, error=BundleError(_("Choose a bundle file to upload")), status=400)
    data = upload.read()
    try:
        bundle = read_bundle(data, name=Path(upload.filename).name)
        _in_scope(pack_id, bundle)
        with sessions()() as db:
            checked = plan(db, services().settings.config_root, bundle)
    except Refusal as refusal:
        return _page(pack_id, error=refusal, status=refusal.status)
    if not checked.ok:
        return _page(pack_id, error=checked.refusal(), status=400)
    (_uploads() / f"{bundle.sha256}.zip").write_bytes(data)
    return render_template("admin/bundles_confirm.html", pack=pack, plan=checked, bundle=bundle,
                           filename=bundle.name)


@bp.post("/<pack_id>/bundles/import")
@role_required(CONFIGURATOR)
def bundle_import(pack_id: str):
    _pack(pack_id)
    digest = request.form.get("sha256", "")
    if not SHA256.match(digest):
        abort(400)
    path = _uploads() / f"{digest}.zip"
    if not path.is_file():
        return _page(pack_id, error=BundleError(_("The uploaded bundle is no longer here: upload it again")),
                     status=400)
    if request.form.get("confirmed") != "1":
        return _page(pack_id, error=BundleError(_("The import was not confirmed: nothing was changed")),
                     status=400)
    try:
        bundle = read_bundle(path, name=(request.form.get("filename") or path.name)[:200])
        _in_scope(pack_id, bundle)
        done = publish(sessions(), services().settings.config_root, bundle, by=signed_in_account().username)
    except Refusal as refusal:
        return _page(pack_id, error=refusal, status=refusal.status)
    path.unlink(missing_ok=True)
    reload_services(services(), done.packset)
    flash(_("The bundle was imported: new applications use the new versions, in-flight applications keep "
            "theirs."), "success")
    return redirect(url_for("admin.bundles", pack_id=pack_id))
