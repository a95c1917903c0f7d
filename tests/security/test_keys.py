"""Issue 12 — keys apart from the data: production refuses keys in the instance folder; files are 0600."""

from __future__ import annotations

import base64
import os
import stat

import pytest
from sqlalchemy import text

from formflow.db import make_engine
from formflow.personal.crypto import DataKeyError, DataKeys

KEY = "1:" + base64.b64encode(b"k" * 32).decode()


@pytest.fixture
def no_key_env(monkeypatch):
    monkeypatch.delenv("FORMFLOW_DATA_KEYS", raising=False)
    monkeypatch.delenv("FORMFLOW_DATA_KEYS_FILE", raising=False)
    return monkeypatch


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_production_without_keys_refuses_to_start(no_key_env, tmp_path, shipped_packs):
    from formflow.app import create_app
    from formflow.config import Settings

    no_key_env.setenv("FORMFLOW_DEMO", "0")
    settings = Settings(instance_dir=tmp_path / "instance", database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                        secret_key="s" * 32)
    with pytest.raises(DataKeyError, match="FORMFLOW_DATA_KEYS"):
        create_app(settings, packset=shipped_packs)
    assert not (tmp_path / "instance" / "data.keys").exists()  # no key made beside the data


def test_production_refuses_a_key_file_inside_the_instance_folder(no_key_env, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "my.keys").write_text(KEY)
    os.chmod(instance / "my.keys", 0o600)
    no_key_env.setenv("FORMFLOW_DATA_KEYS_FILE", str(instance / "my.keys"))
    with pytest.raises(DataKeyError, match="instance"):
        DataKeys.from_environment(instance, demo=False)


def test_production_refuses_a_key_file_others_may_read(no_key_env, tmp_path):
    path = tmp_path / "keys" / "data.keys"
    path.parent.mkdir()
    path.write_text(KEY)
    os.chmod(path, 0o644)
    no_key_env.setenv("FORMFLOW_DATA_KEYS_FILE", str(path))
    with pytest.raises(DataKeyError, match="0600"):
        DataKeys.from_environment(tmp_path / "instance", demo=False)


def test_production_takes_a_private_key_file_outside_or_the_environment(no_key_env, tmp_path):
    """Positive controls: the two ways production may be given its keys."""
    path = tmp_path / "keys" / "data.keys"
    path.parent.mkdir()
    path.write_text(KEY)
    os.chmod(path, 0o600)
    no_key_env.setenv("FORMFLOW_DATA_KEYS_FILE", str(path))
    keys = DataKeys.from_environment(tmp_path / "instance", demo=False)
    assert keys.open(keys.seal("甲")) == "甲"
    no_key_env.delenv("FORMFLOW_DATA_KEYS_FILE")
    no_key_env.setenv("FORMFLOW_DATA_KEYS", KEY)
    assert DataKeys.from_environment(tmp_path / "instance", demo=False).current == 1


def test_demo_makes_its_key_file_0600(no_key_env, tmp_path):
    keys = DataKeys.from_environment(tmp_path / "instance", demo=True)
    assert keys.current == 1
    assert _mode(tmp_path / "instance" / "data.keys") == 0o600


def test_sqlite_file_is_created_0600(tmp_path):
    path = tmp_path / "formflow.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert _mode(path) == 0o600
        wal = tmp_path / "formflow.sqlite3-wal"
        if wal.exists():
            assert _mode(wal) == 0o600
    engine.dispose()
