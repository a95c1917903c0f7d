"""A worker killed mid-batch: its claims come back after the lease; delivered once in effect; SKIP LOCKED."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from outbox_support import services_of
from sqlalchemy import select, text

from formflow.db.models import OutboxMessage, utcnow
from formflow.outbox import enqueue, handler
from formflow.outbox.worker import Options, backlog, batches, claim, run_batch
from support import ROOT, TEST_KEYS

EFFECTS: list[str] = []
CRASH_ONCE: set[str] = set()


@handler("test.effect")
def _effect(session, message, services) -> None:
    """Records its key; on the first delivery of a key in CRASH_ONCE the 'process' dies (SystemExit)."""
    if message.key in CRASH_ONCE:
        CRASH_ONCE.discard(message.key)
        raise SystemExit(9)
    EFFECTS.append(message.key)


def _enqueue(p, keys, kind="test.effect") -> None:
    with p.sessions.begin() as s:
        for key in keys:
            enqueue(s, kind, {"mobile": "13800000000"}, key=key)


def test_a_worker_dying_mid_batch_leaves_its_claims_to_be_delivered_after_the_lease(platform_db):
    p = platform_db
    EFFECTS.clear()
    _enqueue(p, ["a", "b", "c"])
    CRASH_ONCE.add("b")
    options = Options(lease_seconds=60)
    with pytest.raises(SystemExit):
        run_batch(p.sessions, services_of(p), options)
    assert EFFECTS == ["a"]  # "b" died with the worker, "c" was never reached
    with p.sessions() as s:
        assert backlog(s) == 0  # still leased to the dead worker
        left = s.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
        assert sorted(m.key for m in left) == ["b", "c"] and all(m.claimed_by for m in left)
    assert list(batches(p.sessions, services_of(p), options)) == []  # positive control: nothing due yet
    later = lambda: utcnow() + timedelta(seconds=61)  # noqa: E731 - the lease has ended
    delivered = sum(r.delivered for r in batches(p.sessions, services_of(p), options, now=later))
    assert delivered == 2 and sorted(EFFECTS) == ["a", "b", "c"]
    assert list(batches(p.sessions, services_of(p), options, now=later)) == []


CHILD = r"""
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from formflow.db import make_engine, session_factory
from formflow.outbox import handler
from formflow.outbox.worker import Options, run_batch
from formflow.personal.crypto import DataKeys, install

install(DataKeys.parse(sys.argv[2]))

@handler("test.block")
def block(session, message, services):
    Path(sys.argv[3]).write_text(message.key)
    time.sleep(600)

run_batch(session_factory(make_engine(sys.argv[1])), None, Options(lease_seconds=30))
"""


@handler("test.block")
def _block_here(session, message, services) -> None:
    EFFECTS.append(message.key)


def test_a_worker_killed_by_sigkill_while_holding_a_lease(platform_db, tmp_path):
    p = platform_db
    EFFECTS.clear()
    _enqueue(p, ["k1"], kind="test.block")
    marker = tmp_path / "started"
    child = subprocess.Popen([sys.executable, "-c", CHILD, p.url, TEST_KEYS, str(marker), str(ROOT / "platform")])
    try:
        for _ in range(600):
            if marker.exists() or child.poll() is not None:
                break
            time.sleep(0.1)
        assert marker.read_text() == "k1", "the child worker never reached the handler"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert EFFECTS == []
    later = lambda: utcnow() + timedelta(seconds=31)  # noqa: E731 - its lease has ended
    delivered = 0
    for _ in range(100):  # PostgreSQL ends the killed session's transaction a moment after the kill
        delivered += sum(r.delivered for r in batches(p.sessions, services_of(p), now=later))
        if delivered:
            break
        time.sleep(0.1)
    assert delivered == 1 and EFFECTS == ["k1"]
    with p.sessions() as s:
        assert s.scalar(select(OutboxMessage.status)) == "done"


def test_parallel_workers_never_deliver_a_message_twice(platform_db):
    p = platform_db
    EFFECTS.clear()
    keys = [f"m{i}" for i in range(120)]
    _enqueue(p, keys)
    options = Options(batch=4)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _report in batches(p.sessions, services_of(p), options):
                pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(EFFECTS) == sorted(keys) and len(EFFECTS) == len(set(EFFECTS))


@pytest.mark.postgres
def test_postgresql_claims_skip_rows_another_transaction_holds(postgres_platform):
    p = postgres_platform
    _enqueue(p, ["x", "y"])
    with p.sessions() as s:
        held = s.scalar(select(OutboxMessage.id).where(OutboxMessage.key == "x"))
    with p.engine.connect() as other:
        other.begin()
        other.execute(text("SELECT id FROM outbox_messages WHERE id = :id FOR UPDATE"), {"id": held})
        claimed = claim(p.sessions, Options(), now=utcnow(), token="t1")  # does not wait for the lock
        other.rollback()
    with p.sessions() as s:
        assert [s.get(OutboxMessage, i).key for i in claimed] == ["y"]
    assert claim(p.sessions, Options(), now=utcnow(), token="t2") == [held]  # free again: claimed
