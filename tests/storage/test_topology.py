"""The production topology on this machine: three gunicorn nodes and two outbox workers on PostgreSQL and S3.

Each node has its own instance folder (no shared disk): files live in the S3-protocol server,
state in PostgreSQL. A citizen applies through the API across nodes, a reviewer accepts on
another, and in the middle one node and one worker are killed with SIGKILL. Nothing is lost:
every acknowledged write is in the database once, the notice is rendered by the surviving
worker, and the file uploaded through the dead node is served by a living one.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from formflow.db import make_engine
from formflow.db.models import Application, Event, Notice, OutboxMessage
from support import TEST_KEYS, demo_password, fresh_postgres

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from test_api_journeys import PNG, act, fill, start  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/api/v1"

pytestmark = pytest.mark.postgres


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Reply:
    """A `requests` response shaped like Flask's test response (what the API journey helpers read)."""

    def __init__(self, response: requests.Response) -> None:
        self.raw = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.data = response.content
        self.mimetype = response.headers.get("Content-Type", "").split(";")[0]
        try:
            self.json = response.json()
        except ValueError:
            self.json = None


class Node:
    """The base address of one serving process."""

    def __init__(self, name: str, port: int, proc: subprocess.Popen) -> None:
        self.name, self.url, self.proc = name, f"http://127.0.0.1:{port}", proc

    def alive(self) -> bool:
        return self.proc.poll() is None


class Cluster:
    """The nodes; a request goes to the chosen node, or (`failover`) to the next living one when it is down."""

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = nodes

    def client(self, username: str | None = None, node: int = 0) -> HttpClient:
        c = HttpClient(self, node)
        if username:
            c.sign_in(username)
        return c


class HttpClient:
    """The API journey helpers' client, over HTTP to one node of the cluster."""

    def __init__(self, cluster: Cluster, node: int) -> None:
        self.cluster, self.node = cluster, node
        self.access: str | None = None

    def _send(self, method: str, path: str, **kw: Any) -> Reply:
        headers = dict(kw.pop("headers", None) or {})
        if self.access:
            headers.setdefault("Authorization", f"Bearer {self.access}")
        tried = 0
        while True:
            node = self.cluster.nodes[(self.node + tried) % len(self.cluster.nodes)]
            try:
                for value in (kw.get("files") or {}).values():
                    value[1].seek(0)
                return Reply(requests.request(method, node.url + PREFIX + path, headers=headers, timeout=60, **kw))
            except requests.ConnectionError:
                tried += 1  # the node is gone: the same request (same Idempotency-Key) to the next one
                if tried >= len(self.cluster.nodes):
                    raise

    def sign_in(self, username: str) -> None:
        r = self.post("/tokens", {"username": username, "password": demo_password(username)})
        assert r.status_code == 201, r.json
        self.access = r.json["access_token"]

    def get(self, path: str, query_string: dict | None = None, **kw: Any) -> Reply:
        return self._send("GET", path, params=query_string, **kw)

    def post(self, path: str, body: Any = None, headers: dict | None = None, data: Any = None,
             content_type: str | None = None, **kw: Any) -> Reply:
        if content_type == "multipart/form-data":
            upload, name = data.pop("file")
            return self._send("POST", path, data=data, files={"file": (name, upload, "image/png")}, headers=headers)
        return self._send("POST", path, json=body, headers=headers)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self._send("PATCH", path, json=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self._send("PUT", path, json=body, **kw)


def _wait_for(url: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{url} exited with {proc.returncode}")
        try:
            if requests.get(url + "/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still loading
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not start")


@pytest.fixture
def cluster(postgres_server, s3_env, tmp_path):
    url, drop = fresh_postgres(postgres_server)
    env = {**os.environ, **s3_env, "FORMFLOW_DATABASE_URL": url, "FORMFLOW_CONFIG_ROOT": str(ROOT),
           "FORMFLOW_STORAGE": "s3", "FORMFLOW_DATA_KEYS": TEST_KEYS, "FORMFLOW_DEMO": "1",
           "FORMFLOW_EMBEDDED_WORKER": "0", "FORMFLOW_LOG_FORMAT": "json", "PYTHONPATH": str(ROOT / "platform"),
           "FORMFLOW_API_WRITES_PER_MINUTE": "10000", "FORMFLOW_SECRET_KEY": "topology-test-secret"}
    cli = [sys.executable, "-m", "formflow.cli"]
    procs: list[subprocess.Popen] = []

    def spawn(name: str, *args: str) -> subprocess.Popen:
        instance = tmp_path / name  # each process its own instance folder: nothing shared on disk
        instance.mkdir()
        log = (tmp_path / f"{name}.log").open("wb")
        proc = subprocess.Popen([*cli, *args], env={**env, "FORMFLOW_INSTANCE": str(instance)}, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        return proc

    loaded = subprocess.run([*cli, "load"], env={**env, "FORMFLOW_INSTANCE": str(tmp_path / "setup")},
                            capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    nodes = []
    for n in range(3):
        port = _free_port()
        nodes.append(Node(f"node{n + 1}", port, spawn(f"node{n + 1}", "serve", "--port", str(port), "--workers", "1")))
    for node in nodes:
        _wait_for(node.url, node.proc)
    workers = [spawn(f"worker{n + 1}", "worker", "--poll", "0.2") for n in range(2)]
    engine = make_engine(url)
    try:
        yield Cluster(nodes), workers, engine, tmp_path
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        engine.dispose()
        drop()


def _kill(proc: subprocess.Popen) -> None:
    """SIGKILL to the process and its children (a gunicorn master and its worker)."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def test_three_nodes_two_workers_one_of_each_killed_nothing_lost(cluster):
    nodes, workers, engine, tmp_path = cluster
    # a citizen fills the application on node 1: the uploads go to S3 through node 1
    citizen, draft = start(_Adapter(nodes, node=0), "mj-citizen-chen")
    draft = fill(citizen, draft)
    app_id = draft["id"]
    materials = draft["data"]["materials"]
    refs = [ref for files in materials.values() if isinstance(files, list) for ref in files]
    assert refs, draft["data"]["materials"]
    # submitted on node 2 (the same token: sessions are in the database, not in a node)
    citizen.node = 1
    r = citizen.post(f"/applications/{app_id}/submit", {"version": draft["version"]},
                     headers={"Idempotency-Key": f"submit-{app_id}"})
    assert r.status_code == 200, r.json
    # node 1 dies with SIGKILL; its uploads must still be served, by node 3
    _kill(nodes.nodes[0].proc)
    citizen.node = 2
    served = citizen.get(f"/applications/{app_id}/files/{refs[0]['sha256']}")
    assert served.status_code == 200 and served.data == PNG
    # the reviewer accepts on node 2 (a client aimed at the dead node fails over), a notice is enqueued;
    # one worker is killed at once, the other renders it
    _kill(workers[0])
    done = act(_Adapter(nodes, node=0), "mj-community", app_id, "community_acceptance", "accept", mark=True)
    assert [n["kind"] for n in done["notices"]] == ["acceptance"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        detail = citizen.get(f"/applications/{app_id}").json
        if detail["notices"] and all(n["ready"] for n in detail["notices"]):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"the surviving worker did not render the notice: {detail['notices']}")
    pdf = citizen.get(detail["notices"][0]["url"].removeprefix(PREFIX))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # a burst of saves by the second citizen across the living nodes while node 2 is killed mid-burst
    other = _Adapter(nodes, node=1)
    huang, second = start(other, "mj-citizen-huang")
    version, acknowledged = second["version"], None
    for i in range(24):
        huang.node = i % 3
        if i == 10:  # node 2 is killed while this request to it is in flight
            threading.Timer(0.02, _kill, (nodes.nodes[1].proc,)).start()
        body = {"version": version, "data": {"deposits": 1000 + i, "securities": 0}}
        r = huang.patch(f"/applications/{second['id']}/steps/assets", body)
        if r.status_code == 409 and r.json["error"].get("current"):  # the dead node committed before it died
            version = r.json["error"]["current"]["version"]
            continue
        assert r.status_code == 200, r.json
        version, acknowledged = r.json["version"], 1000 + i
    stored = huang.get(f"/applications/{second['id']}").json
    assert stored["version"] == version and stored["data"]["assets"]["deposits"] == acknowledged
    # the database holds each write once
    with engine.connect() as conn:
        submits = conn.scalar(select(func.count()).select_from(Event.__table__).where(
            Event.application_id == app_id, Event.action == "submit"))
        status = conn.scalar(select(Application.status).where(Application.id == app_id))
        ready = conn.scalar(select(func.count()).select_from(Notice.__table__).where(
            Notice.application_id == app_id, Notice.status == "ready"))
    assert submits == 1 and status == "active" and ready == 1
    survivors = [w for w in workers if w.poll() is None]
    assert len(survivors) == 1
    # the surviving worker delivers everything the journey enqueued (what the dead one held is taken over)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            left = dict(conn.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
        if not left.get("pending"):
            break
        time.sleep(0.5)
    assert not left.get("pending") and not left.get("dead") and left.get("done", 0) >= 2, left


class _Adapter:
    """What the journey helpers call `api`: `client(username)` on a node of the cluster."""

    def __init__(self, cluster: Cluster, node: int) -> None:
        self.cluster, self.node = cluster, node

    def client(self, username: str | None = None) -> HttpClient:
        return self.cluster.client(username, node=self.node)

