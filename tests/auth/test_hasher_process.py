"""Password checks in the shared Argon2id helper process (auth/hasher.py) that `formflow serve` starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from formflow.auth import hasher, passwords


class NotHere:
    """Stands in for the in-process hasher: any use of it means the helper was bypassed."""

    def hash(self, password):
        raise AssertionError("hashed in the worker")

    def verify(self, stored, password):
        raise AssertionError("checked in the worker")


@pytest.fixture()
def helper(monkeypatch):
    monkeypatch.delenv(hasher.SOCKET_ENV, raising=False)
    proc = hasher.start(1)
    assert proc is not None and os.environ[hasher.SOCKET_ENV]
    monkeypatch.setenv(hasher.SOCKET_ENV, os.environ[hasher.SOCKET_ENV])  # removed again after the test
    yield proc
    proc.kill()
    proc.wait()


def test_hashes_and_checks_run_in_the_helper_not_in_the_worker(helper, monkeypatch):
    monkeypatch.setattr(passwords, "HASHER", NotHere())
    stored = passwords.hash_password("Correct-horse-2026")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "Correct-horse-2026") is True
    assert passwords.verify_password(stored, "Wrong-horse-2026") is False
    assert passwords.verify_password(None, "anything") is False  # unknown account: one dummy check
    assert passwords.verify_password("not-a-hash", "anything") is False


def test_a_dead_helper_does_not_stop_sign_ins(helper, caplog):
    stored = passwords.hash_password("Correct-horse-2026")
    helper.kill()
    helper.wait()
    with caplog.at_level("WARNING", logger="formflow.auth.passwords"):
        assert passwords.verify_password(stored, "Correct-horse-2026") is True
    assert "checking in this process" in caplog.text


def test_the_socket_is_the_serving_user_s_only(helper):
    path = Path(os.environ[hasher.SOCKET_ENV])
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    assert path.stat().st_mode & 0o077 == 0


def test_the_helper_ends_when_the_process_that_started_it_is_killed(tmp_path):
    script = textwrap.dedent("""
        import sys, time
        from formflow.auth import hasher
        proc = hasher.start(1)
        print(proc.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    helper_pid = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{helper_pid}").exists():
        state = Path(f"/proc/{helper_pid}/stat").read_text().split()[2] if Path(f"/proc/{helper_pid}").exists() else "X"
        if state == "Z":
            break
        time.sleep(0.2)
    alive = Path(f"/proc/{helper_pid}").exists() and Path(f"/proc/{helper_pid}/stat").read_text().split()[2] != "Z"
    assert not alive
