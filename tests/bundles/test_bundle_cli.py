"""`formflow export` / `formflow import`: a changed pack moves to another environment, in-flight applications don't."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from bundle_support import JX, MATTER, MZ, Target, change_source, copy_root, edit_yaml
from click.testing import CliRunner
from sqlalchemy import func, select

from formflow.cli import main
from formflow.db.models import ConfigImport, PackVersion
from formflow.packs import load_packs
from formflow.packs.bundle import read_bundle, sha256


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    """(source, target): two environments' configuration roots, the source's pack changed."""
    source, target = copy_root(tmp_path / "source"), copy_root(tmp_path / "target")
    change_source(source)
    return source, target


def run(args: list[str], root: Path, database_url: str = "sqlite:///nowhere.sqlite3"):
    env = {"FORMFLOW_CONFIG_ROOT": str(root), "FORMFLOW_DATABASE_URL": database_url, "FORMFLOW_DEMO": "1"}
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for folder in ("schemas", "workflows", "seeds")
            for p in sorted((root / folder).rglob("*")) if p.is_file()}


def counts(platform) -> tuple[int, int]:
    with platform.sessions() as s:
        return s.scalar(select(func.count()).select_from(ConfigImport)), \
            s.scalar(select(func.count()).select_from(PackVersion))


def test_export_validate_import_keeps_in_flight_applications_on_their_pinned_versions(roots, platform_db, tmp_path):
    source, target = roots
    env_target = Target(platform_db, target)
    in_flight = env_target.start(load_packs(target))
    before = snapshot(target)

    out = tmp_path / "mj.zip"
    exported = run(["export", MZ, "--out", str(out)], source)
    assert exported.exit_code == 0, exported.output
    bundle = read_bundle(out)
    assert bundle.packs == [MZ]
    assert f"seeds/{MZ}/parameters.yaml" in bundle.files and f"seeds/{MZ}/demo.yaml" not in bundle.files
    for entry in bundle.manifest["files"]:
        assert entry["sha256"] == sha256((source / entry["path"]).read_bytes())
    assert bundle.manifest["formflow_version"] and bundle.manifest["created_at"]

    checked = run(["import", str(out), "--validate-only"], target, platform_db.url)
    assert checked.exit_code == 0, checked.output
    text = checked.output
    assert "subsistence_line: 900 → 950" in text
    assert f"{MZ}/{MATTER} workflow：" in text
    assert f"seeds/{MZ}/parameters.yaml" in text and f"workflows/{MZ}/{MATTER}.yaml" in text
    assert f"{MZ}/{MATTER}：1 件在办申请" in text  # the in-flight count, in the authority's language
    assert snapshot(target) == before and counts(platform_db)[0] == 0  # validate-only changes nothing

    imported = run(["import", str(out), "--by", "ops-zhang"], target, platform_db.url)
    assert imported.exit_code == 0, imported.output
    assert (target / "workflows" / MZ / f"{MATTER}.yaml").read_bytes() == \
        (source / "workflows" / MZ / f"{MATTER}.yaml").read_bytes()
    assert (target / "seeds" / MZ / "demo.yaml").is_file()  # demo files the bundle does not carry are kept
    with platform_db.sessions() as s:
        [record] = s.scalars(select(ConfigImport)).all()
        assert (record.by, record.sha256, record.packs) == ("ops-zhang", sha256(out.read_bytes()), [MZ])
        assert {"pack": MZ, "id": "subsistence_line", "old": 900, "new": 950, "added": False,
                "removed": False} in record.summary["parameters"]
        [workflow] = [v for v in record.summary["versions"] if v["kind"] == "workflow" and v["matter"] == MATTER]
        assert s.get(PackVersion, workflow["new"]) is not None  # published

    # the in-flight application moves under its pinned workflow; a new one pins the new version
    assert env_target.accept(in_flight) == ("street_review",)
    started = env_target.start(load_packs(target))
    assert env_target.application(started).versions["workflow"] == workflow["new"]
    assert env_target.application(in_flight).versions["workflow"] == workflow["old"]
    assert env_target.accept(started) == ("second_check",)


def _rewritten(bundle: Path, out: Path, change) -> Path:
    """A copy of the bundle with its members changed by `change(name, data) -> data | None` (None: left out)."""
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = change(info.filename, src.read(info.filename))
            if data is not None:
                dst.writestr(info.filename, data)
    return out


def test_a_tampered_bundle_is_refused_naming_the_file_and_nothing_changes(roots, sqlite_platform, tmp_path):
    source, target = roots
    out = tmp_path / "mj.zip"
    assert run(["export", MZ, "--out", str(out)], source).exit_code == 0
    before, rows = snapshot(target), counts(sqlite_platform)
    wf = f"workflows/{MZ}/{MATTER}.yaml"

    def tamper(name: str, data: bytes) -> bytes:
        return data.replace("复核通过".encode(), "直接通过".encode()) if name == wf else data

    tampered = _rewritten(out, tmp_path / "tampered.zip", tamper)
    result = run(["import", str(tampered)], target, sqlite_platform.url)
    assert result.exit_code == 2
    assert wf in result.output and "SHA-256" in result.output

    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("这不是压缩包", encoding="utf-8")
    result = run(["import", str(not_zip), "--validate-only"], target, sqlite_platform.url)
    assert result.exit_code == 2 and "notes.zip" in result.output and "配置包" in result.output

    unlisted = _rewritten(out, tmp_path / "extra.zip", lambda name, data: data)
    with zipfile.ZipFile(unlisted, "a") as archive:
        archive.writestr(f"schemas/{MZ}/extra.yaml", "a: 1\n")
    result = run(["import", str(unlisted)], target, sqlite_platform.url)
    assert result.exit_code == 2 and f"schemas/{MZ}/extra.yaml" in result.output

    outside = _rewritten(out, tmp_path / "outside.zip", lambda name, data: _listing_outside(data)
                         if name == "manifest.json" else data)
    result = run(["import", str(outside)], target, sqlite_platform.url)
    assert result.exit_code == 2 and "../../etc/cron.d/x" in result.output

    assert snapshot(target) == before and counts(sqlite_platform) == rows


def _listing_outside(manifest: bytes) -> bytes:
    content = json.loads(manifest)
    content["files"].append({"path": "../../etc/cron.d/x", "sha256": "0" * 64, "size": 1})
    return json.dumps(content).encode()


def test_a_bundle_whose_file_fails_the_check_is_refused_naming_the_file(roots, sqlite_platform, tmp_path):
    source, target = roots
    edit_yaml(source / "workflows" / MZ / f"{MATTER}.yaml",
              lambda wf: wf["stages"]["second_check"].__setitem__("table", "no-such-table"))
    out = tmp_path / "broken.zip"
    assert run(["export", MZ, "--out", str(out)], source).exit_code == 0  # export packs files as they are
    before, rows = snapshot(target), counts(sqlite_platform)
    for args in (["import", str(out), "--validate-only"], ["import", str(out)]):
        result = run(args, target, sqlite_platform.url)
        assert result.exit_code == 2
        assert f"workflows/{MZ}/{MATTER}.yaml" in result.output and "no-such-table" in result.output
    assert snapshot(target) == before and counts(sqlite_platform) == rows


def test_a_pack_that_extends_another_brings_it_along(tmp_path):
    root = copy_root(tmp_path / "config")
    edit_yaml(root / "schemas" / MZ / "pack.yaml", lambda pack: pack.__setitem__("extends", JX))
    out = tmp_path / "city.zip"
    result = run(["export", MZ, "--out", str(out), "--with-demo"], root)
    assert result.exit_code == 0, result.output
    bundle = read_bundle(out)
    assert bundle.packs == [MZ, JX] and bundle.with_demo
    assert {f"schemas/{JX}/pack.yaml", f"workflows/{JX}/{MATTER}.yaml", f"seeds/{JX}/offices.yaml",
            f"seeds/{MZ}/demo.yaml", f"seeds/{JX}/demo.yaml"} <= set(bundle.files)


def test_exporting_an_unknown_pack_is_refused(tmp_path):
    result = run(["export", "no-such-pack", "--out", str(tmp_path / "x.zip")], copy_root(tmp_path / "c"))
    assert result.exit_code == 2 and "no-such-pack" in result.output
    assert not (tmp_path / "x.zip").exists()


def test_a_write_failing_midway_puts_every_file_back_and_records_nothing(roots, sqlite_platform, tmp_path,
                                                                        monkeypatch):
    from formflow.packs.bundle import read_bundle as read
    from formflow.packs.importing import publish

    source, target = roots
    out = tmp_path / "mj.zip"
    assert run(["export", MZ, "--out", str(out)], source).exit_code == 0
    before, rows = snapshot(target), counts(sqlite_platform)
    real_replace, calls = Path.replace, []

    def failing_replace(self, other):
        calls.append(self)
        if len(calls) == 2:  # the second file's rename fails (a full disk, a read-only folder)
            raise OSError(28, "No space left on device")
        return real_replace(self, other)

    monkeypatch.setattr(Path, "replace", failing_replace)
    with pytest.raises(OSError):
        publish(sqlite_platform.sessions, target, read(out), by="ops-zhang")
    monkeypatch.undo()
    assert snapshot(target) == before and counts(sqlite_platform) == rows
    assert not [p for p in target.rglob(".*.import-*")]  # no temporary file left behind
