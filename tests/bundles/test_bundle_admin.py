"""The configurator's bundle page: download an export, upload a bundle, see the diff, confirm, import; scope."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from bundle_support import JX, MATTER, MZ, Target, change_source, copy_root
from sqlalchemy import select

from formflow.db.models import ConfigImport
from formflow.packs import load_packs
from formflow.packs.bundle import bundle_bytes, read_bundle
from support import Platform, WebClient, make_web_app

PAGE = f"/admin/{MZ}/bundles"


@pytest.fixture
def target(sqlite_template, tmp_path: Path) -> Platform:
    """A loaded SQLite platform whose configuration root is a private copy (the import writes into it)."""
    root = copy_root(tmp_path / "target")
    shutil.copyfile(sqlite_template, tmp_path / "p.sqlite3")
    platform = Platform(f"sqlite:///{tmp_path / 'p.sqlite3'}", root, tmp_path / "instance", packs=load_packs(root),
                        prepared=True)
    yield platform
    platform.engine.dispose()


@pytest.fixture
def source_bundle(tmp_path: Path) -> bytes:
    source = copy_root(tmp_path / "source")
    change_source(source)
    return bundle_bytes(source, MZ)


def signed_in(platform: Platform, username: str) -> WebClient:
    web = WebClient(make_web_app(platform))
    assert web.login(username).status_code == 302
    return web


def upload(web: WebClient, pack: str, data: bytes, name: str = "mj.zip"):
    return web.post(f"/admin/{pack}/bundles/check", {"bundle": (io.BytesIO(data), name)},
                    token_from=f"/admin/{pack}/bundles", content_type="multipart/form-data")


def test_upload_diff_confirm_import(target, source_bundle):
    in_flight = Target(target, target.root).start(target.packs)
    web = signed_in(target, "mj-configurator")
    page = web.get("/admin/").get_data(as_text=True)
    assert PAGE in page  # linked from the overview

    exported = web.get(f"{PAGE}/export.zip")
    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    assert read_bundle(exported.data).packs == [MZ]

    wf = target.root / "workflows" / MZ / f"{MATTER}.yaml"
    before = wf.read_bytes()
    diff = upload(web, MZ, source_bundle)
    assert diff.status_code == 200
    html = diff.get_data(as_text=True)
    assert "请确认导入" in html and "subsistence_line" in html and "900" in html and "950" in html
    assert f"workflows/{MZ}/{MATTER}.yaml" in html
    assert f"{MZ}/{MATTER}：1 件在办申请" in html
    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', html).group(1)
    assert wf.read_bytes() == before  # shown, not done

    unconfirmed = web.post(f"{PAGE}/import", {"sha256": sha, "filename": "mj.zip"}, token_from=PAGE)
    assert unconfirmed.status_code == 400 and "未确认导入" in unconfirmed.get_data(as_text=True)
    assert wf.read_bytes() == before

    done = web.post(f"{PAGE}/import", {"sha256": sha, "filename": "mj.zip", "confirmed": "1"}, token_from=PAGE)
    assert done.status_code == 302
    assert wf.read_bytes() != before and "second_check" in wf.read_text(encoding="utf-8")
    with target.sessions() as s:
        [record] = s.scalars(select(ConfigImport)).all()
        assert (record.by, record.sha256, record.packs) == ("mj-configurator", sha, [MZ])
    services = web.app.extensions["formflow.services"]
    assert services.packs.packs[MZ].parameters.content["parameters"]["subsistence_line"]["value"] == 950
    listing = web.get(PAGE).get_data(as_text=True)
    assert f'id="import-{record.id}"' in listing and "mj-configurator" in listing
    # the process serves the new pack: a new application pins it, the in-flight one keeps its own
    env = Target(target, target.root)
    started = env.start(services.packs)
    assert env.accept(started) == ("second_check",)
    assert env.accept(in_flight) == ("street_review",)


def test_a_tampered_upload_is_refused_on_the_page_and_nothing_changes(target, source_bundle, tmp_path):
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(source_bundle))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("parameters.yaml"):
                data = data.replace(b"950", b"9500")
            dst.writestr(info.filename, data)
    web = signed_in(target, "mj-configurator")
    response = upload(web, MZ, buffer.getvalue(), "tampered.zip")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "tampered.zip" in html and f"seeds/{MZ}/parameters.yaml" in html and "SHA-256" in html
    response = upload(web, MZ, b"not a zip", "notes.zip")
    assert response.status_code == 400 and "不是配置包文件" in response.get_data(as_text=True)
    with target.sessions() as s:
        assert s.scalar(select(ConfigImport.id)) is None
    assert not list((target.instance / "bundles").glob("*.zip"))


def test_a_configurator_of_another_pack_is_refused(target, source_bundle):
    web = signed_in(target, "jx-configurator")
    assert web.get(PAGE).status_code == 404
    assert web.get(f"{PAGE}/export.zip").status_code == 404
    assert web.post(f"{PAGE}/check", {"bundle": (io.BytesIO(source_bundle), "mj.zip")},
                    token_from=f"/admin/{JX}/bundles", content_type="multipart/form-data").status_code == 404
    assert web.post(f"{PAGE}/import", {"sha256": "0" * 64, "confirmed": "1"},
                    token_from=f"/admin/{JX}/bundles").status_code == 404
    # on their own pack's page, a bundle of another pack is refused
    response = upload(web, JX, source_bundle)
    assert response.status_code == 400 and MZ in response.get_data(as_text=True)
    with target.sessions() as s:
        assert s.scalar(select(ConfigImport.id)) is None


def test_a_bundle_carrying_a_pack_the_configurator_does_not_configure_is_refused(target, tmp_path):
    root = copy_root(tmp_path / "city")
    text = (root / "schemas" / JX / "pack.yaml").read_text(encoding="utf-8")
    (root / "schemas" / JX / "pack.yaml").write_text(text + f"extends: {MZ}\n", encoding="utf-8")
    data = bundle_bytes(root, JX)
    assert read_bundle(data).packs == [JX, MZ]
    web = signed_in(target, "jx-configurator")
    response = upload(web, JX, data)
    assert response.status_code == 403 and MZ in response.get_data(as_text=True)


def test_import_needs_the_csrf_token(target, source_bundle):
    web = signed_in(target, "mj-configurator")
    response = web.client.post(f"{PAGE}/check", data={"bundle": (io.BytesIO(source_bundle), "mj.zip")},
                               content_type="multipart/form-data")
    assert response.status_code == 400
    with target.sessions() as s:
        assert s.scalar(select(ConfigImport.id)) is None
