"""Argon2id in a helper process of its own, shared by every serving worker of a machine.

Why: each Argon2id check takes 64 MiB (the library's defaults, never lowered). Run inside a
serving worker, that memory is the worker's peak: N workers, N × 64 MiB more each time sign-ins
arrive together. `formflow serve` starts one helper (`python -m formflow.auth.hasher SOCKET`)
before its workers; it imports nothing but argon2 and the standard library, checks at most
FORMFLOW_ARGON2_CONCURRENCY passwords at once, and answers over a Unix socket in the instance
folder. The workers find it through FORMFLOW_ARGON2_SOCKET.

Protocol (one request per connection): a JSON line `{"op": "hash"|"verify", "password": …,
"stored": …}` → a JSON line `{"hash": …}` or `{"ok": true|false}`. An unknown account sends
`stored: null` and costs one full check of a dummy hash, as in-process.

If the helper cannot be reached, the check runs in the worker (logged): a sign-in never fails
because the helper died. No library offers this (passlib and argon2-cffi hash in-process only).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

SOCKET_ENV = "FORMFLOW_ARGON2_SOCKET"
#: Longest request line accepted (a password is at most a few hundred bytes, a hash ~100).
MAX_LINE = 16 * 1024
#: Seconds `start` waits for the helper's socket to appear.
START_TIMEOUT = 20.0
#: Seconds between the helper's checks that the process that started it is still there.
WATCH_EVERY = 1.0
#: Seconds a worker waits for an answer (a check is ~0.2 s; a queue of sign-ins waits longer).
TIMEOUT = 30.0

HASHER = PasswordHasher()


class HasherUnavailable(Exception):
    """The helper process did not answer; the caller checks in its own process."""

    code = "hasher_unavailable"


@cache
def dummy_hash() -> str:
    """A fixed account-less hash: an unknown account costs one full check of it."""
    return HASHER.hash("formflow-dummy-password-for-unknown-accounts")


def check(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored`; no stored hash still costs one check (of the dummy)."""
    try:
        if not stored:
            HASHER.verify(dummy_hash(), password)
            return False
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def answer(request: dict, slots: threading.BoundedSemaphore) -> dict:
    """What the helper answers to one request."""
    password = str(request.get("password", ""))
    with slots:
        if request.get("op") == "hash":
            return {"hash": HASHER.hash(password)}
        stored = request.get("stored")
        return {"ok": check(stored if isinstance(stored, str) else None, password)}


def ask(path: str, request: dict) -> dict:
    """Send one request to the helper at `path`; HasherUnavailable when it does not answer."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(TIMEOUT)
            conn.connect(path)
            conn.sendall(json.dumps(request).encode() + b"\n")
            reply = conn.makefile("rb").readline(MAX_LINE)
        return dict(json.loads(reply))
    except (OSError, ValueError) as exc:
        raise HasherUnavailable(str(exc)) from exc


def serve(path: str, concurrency: int) -> None:
    """Answer requests on the Unix socket `path` until terminated."""
    slots = threading.BoundedSemaphore(max(1, concurrency))

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            line = self.rfile.readline(MAX_LINE)
            try:
                reply = answer(json.loads(line), slots)
            except ValueError:
                reply = {"error": "bad_request"}
            self.wfile.write(json.dumps(reply).encode() + b"\n")

    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True

    if os.path.exists(path):
        os.unlink(path)
    old_mask = os.umask(0o177)  # the socket is the serving user's only
    try:
        server = Server(path, Handler)
    finally:
        os.umask(old_mask)
    dummy_hash()
    with server:
        server.serve_forever()


def start(concurrency: int) -> subprocess.Popen[bytes] | None:
    """Start the helper for this process and the workers it forks (FORMFLOW_ARGON2_SOCKET is set).

    None when it did not come up (the checks then run in the workers, as without it).
    """
    folder = tempfile.mkdtemp(prefix="formflow-argon2-")  # 0700: only the serving user reaches the socket
    path = os.path.join(folder, "argon2.sock")
    proc = subprocess.Popen([sys.executable, "-m", "formflow.auth.hasher", path, str(max(1, concurrency)),
                             str(os.getpid())])

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(folder, ignore_errors=True)

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if ask(path, {"op": "verify", "stored": None, "password": ""}).get("ok") is False:
                atexit.register(stop)
                os.environ[SOCKET_ENV] = path
                return proc
        except HasherUnavailable:
            time.sleep(0.05)
    stop()
    return None


def _watch_parent(parent: int) -> None:
    """End the helper when the process that started it is gone (even if it was killed)."""
    while True:
        time.sleep(WATCH_EVERY)
        if os.getppid() != parent:
            os._exit(0)


if __name__ == "__main__":  # python -m formflow.auth.hasher SOCKET [CONCURRENCY [PARENT_PID]]
    if len(sys.argv) > 3:
        threading.Thread(target=_watch_parent, args=(int(sys.argv[3]),), daemon=True).start()
    serve(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
