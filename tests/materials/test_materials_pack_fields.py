"""Broken packs: `upload_path` and `field` of materials.yaml must be form fields."""

from __future__ import annotations

from pathlib import Path

import yaml

from formflow.packs import load_packs
from formflow.packs.problems import load_yaml

MATTER = "public-rental-housing"


def _materials(root: Path, pack: str) -> Path:
    return root / "schemas" / pack / MATTER / "materials.yaml"


def _edit(path: Path, change) -> None:
    content = load_yaml(path.read_text(encoding="utf-8"))
    change(content)
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _problems(root: Path, file: Path, pointer: str) -> list[str]:
    rel = file.relative_to(root).as_posix()
    return [p.message for p in load_packs(root).problems if p.file == rel and p.pointer == pointer]


def test_shipped_packs_declare_resolvable_upload_paths(config_root: Path) -> None:
    packset = load_packs(config_root)
    assert not packset.problems
    for pack in packset.packs.values():
        for matter in pack.matters.values():
            if matter.materials is not None:
                assert matter.materials.content.get("upload_path")


def test_broken_upload_path_is_reported(config_copy: Path) -> None:
    path = _materials(config_copy, "meizhou-meijiang")
    _edit(path, lambda m: m.update(upload_path="materials.nowhere"))
    messages = _problems(config_copy, path, "/upload_path")
    assert any("materials.nowhere" in m and "不是表单中的字段" in m for m in messages), messages


def test_broken_field_is_reported(config_copy: Path) -> None:
    path = _materials(config_copy, "jiangxi")
    content = load_yaml(path.read_text(encoding="utf-8"))
    kind = next(k for k, spec in content["kinds"].items() if spec.get("field"))
    _edit(path, lambda m: m["kinds"][kind].update(field="assets.no_such_field"))
    messages = _problems(config_copy, path, f"/kinds/{kind}/field")
    assert any("assets.no_such_field" in m for m in messages), messages


def test_kind_without_form_field_is_reported(config_copy: Path) -> None:
    path = _materials(config_copy, "jiangxi")
    content = load_yaml(path.read_text(encoding="utf-8"))
    kind = next(k for k, spec in content["kinds"].items() if spec.get("field"))
    _edit(path, lambda m: m["kinds"][kind].pop("field"))
    messages = _problems(config_copy, path, f"/kinds/{kind}")
    assert any("没有对应字段" in m for m in messages), messages


def test_missing_upload_path_is_reported(config_copy: Path) -> None:
    path = _materials(config_copy, "meizhou-meijiang")
    _edit(path, lambda m: m.pop("upload_path"))
    rel = path.relative_to(config_copy).as_posix()
    problems = [p for p in load_packs(config_copy).problems if p.file == rel]
    assert any("upload_path" in p.pointer + p.message for p in problems), problems
