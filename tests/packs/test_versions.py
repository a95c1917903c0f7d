"""An application pins its versions: editing a pack never changes an in-flight application."""

from __future__ import annotations

import json

from formflow.forms.errors import translate_all
from formflow.packs import load_packs
from formflow.packs.versions import content_hash, load_pinned, pin

PACK, MATTER = "meizhou-meijiang", "public-rental-housing"


def _validate(pinned, data):
    return translate_all(pinned.validator.iter_errors(data))


def test_content_hash_is_stable_and_order_independent():
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})


def test_pinned_application_keeps_its_form_and_workflow(sqlite_platform, config_copy):
    p = sqlite_platform
    before = load_packs(config_copy)
    with p.sessions.begin() as session:
        old_versions = pin(session, before, PACK, MATTER)

    form_path = config_copy / "schemas" / PACK / MATTER / "form.schema.json"
    form = json.loads(form_path.read_text(encoding="utf-8"))
    first_step = next(iter(form["properties"]))
    form["properties"][first_step]["properties"]["new_required_field"] = {
        "type": "string", "maxLength": 10, "title": "新增必填项"}
    form["properties"][first_step].setdefault("required", []).append("new_required_field")
    form_path.write_text(json.dumps(form, ensure_ascii=False), encoding="utf-8")
    wf_path = config_copy / "workflows" / PACK / f"{MATTER}.yaml"
    wf_path.write_text(wf_path.read_text(encoding="utf-8").replace("title:", "title: 改", 1), encoding="utf-8")

    after = load_packs(config_copy)
    assert after.problems == []
    with p.sessions.begin() as session:
        new_versions = pin(session, after, PACK, MATTER)
        assert new_versions["form"] != old_versions["form"]
        assert new_versions["workflow"] != old_versions["workflow"]
        assert new_versions["materials"] == old_versions["materials"]

        old, new = load_pinned(session, old_versions), load_pinned(session, new_versions)
        data = {first_step: {}}
        old_fields = {e.pointer for e in _validate(old, data)}
        new_fields = {e.pointer for e in _validate(new, data)}
        assert f"/{first_step}/new_required_field" in new_fields
        assert f"/{first_step}/new_required_field" not in old_fields
        assert old.workflow["title"] != new.workflow["title"]
        assert old.workflow["stages"] == new.workflow["stages"]


def test_pinning_twice_stores_once(sqlite_platform):
    from sqlalchemy import func, select

    from formflow.db.models import PackVersion

    p = sqlite_platform
    with p.sessions.begin() as session:
        first = pin(session, p.packs, PACK, MATTER)
        count = session.scalar(select(func.count()).select_from(PackVersion))
        second = pin(session, p.packs, PACK, MATTER)
        assert first == second
        assert session.scalar(select(func.count()).select_from(PackVersion)) == count


def test_pinned_form_keeps_its_step_order_on_each_database(platform_db):
    """A form's steps are its properties in order: storage must not reorder them (JSONB would)."""
    p = platform_db
    for pack in p.packs.packs.values():
        for matter in pack.matters.values():
            with p.sessions.begin() as session:
                versions = pin(session, p.packs, pack.id, matter.id)
            from formflow.packs import versions as versions_module

            versions_module._PINNED.clear()
            with p.sessions() as session:
                pinned = load_pinned(session, versions)
                assert list(pinned.form["properties"]) == list(matter.form.content["properties"])


def test_processes_pinning_the_same_new_version_at_once_all_succeed(postgres_platform, config_copy):
    """The first drafts after a pack change, in several gunicorn workers at once: no duplicate-key error."""
    import threading

    p = postgres_platform
    form_path = config_copy / "schemas" / PACK / MATTER / "form.schema.json"
    form = json.loads(form_path.read_text(encoding="utf-8"))
    form["title"] = "并发固定版本"
    form_path.write_text(json.dumps(form, ensure_ascii=False), encoding="utf-8")
    packs = load_packs(config_copy)
    barrier, results, errors = threading.Barrier(4), [], []

    def pin_at_once() -> None:
        try:
            with p.sessions.begin() as session:
                barrier.wait(10)
                results.append(pin(session, packs, PACK, MATTER)["form"])
        except Exception as exc:  # noqa: BLE001 - every failure is reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=pin_at_once) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and len(set(results)) == 1 and len(results) == 4
