"""The serve helper: one process beside `formflow serve`'s workers for the memory-heavy work.

Two kinds of work need far more memory than a page: an Argon2id check (64 MiB, the library's
defaults, never lowered) and a PDF (fpdf2 and fontTools, ≈ 20 MiB of code and objects). Done in a
serving worker, each is that worker's peak — N workers, N times. `formflow serve` starts one helper
(`python -m formflow.sidecar SOCKET CONCURRENCY PARENT`) before its workers; the workers find it
through FORMFLOW_SIDECAR_SOCKET and hand it:

- `hash` / `verify`: a password check (auth/hasher.py), at most CONCURRENCY at once;
- `render_pdf`: `documents.pdf.render_pdf` with the same arguments, the same bytes back.

Protocol: per connection one request and one reply, each a 4-byte length and a pickle. Pickle is
safe here because both ends are this program and the socket is in a 0700 folder of the serving user
(nobody else can connect). A refusal raised in the helper (a glyph no font has) is raised again in
the worker. If the helper cannot be reached, the work is done in the worker (logged): nothing fails
because the helper died. The helper ends when the process that started it is gone.

Why by hand: multiprocessing's managers and pools re-import the parent's `__main__` (the whole CLI)
in the child and have no fallback when the child dies; this is a socket and a length prefix.
"""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import shutil
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

SOCKET_ENV = "FORMFLOW_SIDECAR_SOCKET"
#: Largest request or reply accepted (a notice with a signature image is well under this).
MAX_MESSAGE = 64 * 1024 * 1024
#: Seconds a worker waits for an answer (a queue of sign-ins or renders waits longer than one).
TIMEOUT = 60.0
#: Seconds `start` waits for the helper to answer.
START_TIMEOUT = 20.0
#: Seconds between the helper's checks that the process that started it is still there.
WATCH_EVERY = 1.0

log = logging.getLogger(__name__)
_HEADER = struct.Struct("!I")


class SidecarUnavailable(Exception):
    """The helper did not answer; the caller does the work in its own process."""

    code = "sidecar_unavailable"


def socket_path() -> str | None:
    """The helper's socket when `formflow serve` started one and this is not the helper itself."""
    return os.environ.get(SOCKET_ENV) or None


def _send(conn: socket.socket, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    conn.sendall(_HEADER.pack(len(data)) + data)


def _receive(conn: socket.socket) -> Any:
    reader = conn.makefile("rb")
    header = reader.read(_HEADER.size)
    if len(header) != _HEADER.size:
        raise EOFError("no answer")
    (size,) = _HEADER.unpack(header)
    if size > MAX_MESSAGE:
        raise ValueError(f"message of {size} bytes")
    data = reader.read(size)
    if len(data) != size:
        raise EOFError("answer cut short")
    return pickle.loads(data)  # noqa: S301 - our own peer on a socket only the serving user reaches


def ask(op: str, *args: Any, **kwargs: Any) -> Any:
    """Have the helper do `op`; its result, or its exception raised here; SidecarUnavailable without one."""
    path = socket_path()
    if path is None:
        raise SidecarUnavailable("no helper")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(TIMEOUT)
            conn.connect(path)
            _send(conn, (op, args, kwargs))
            ok, value = _receive(conn)
    except (OSError, EOFError, ValueError, TypeError, AttributeError, pickle.PickleError) as exc:
        log.warning("serve helper unavailable at %s, doing %s in this process: %s", path, op, exc)
        raise SidecarUnavailable(str(exc)) from exc
    if not ok:
        raise value
    return value


def _operations(concurrency: int) -> dict[str, Callable[..., Any]]:
    from formflow.auth import hasher

    hasher.set_concurrency(concurrency)

    def render_pdf(*args: Any, **kwargs: Any) -> bytes:
        from formflow.documents.pdf import render_pdf_here

        return render_pdf_here(*args, **kwargs)

    return {"hash": hasher.hash_password, "verify": hasher.check, "render_pdf": render_pdf}


def serve(path: str, concurrency: int) -> None:
    """Answer requests on the Unix socket `path` until terminated."""
    operations = _operations(concurrency)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            try:
                op, args, kwargs = _receive(self.request)
                reply = (True, operations[op](*args, **kwargs))
            except Exception as exc:  # noqa: BLE001 - the worker raises it again
                reply = (False, exc)
            try:
                _send(self.request, reply)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                _send(self.request, (False, RuntimeError(f"{type(reply[1]).__name__}: {reply[1]} ({exc})")))

    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True

    if os.path.exists(path):
        os.unlink(path)
    with Server(path, Handler) as server:
        server.serve_forever()


def start(concurrency: int) -> subprocess.Popen[bytes] | None:
    """Start the helper for this process and the workers it forks (sets FORMFLOW_SIDECAR_SOCKET).

    None when it did not come up (the work is then done in the workers, as without it).
    """
    folder = tempfile.mkdtemp(prefix="formflow-serve-")  # 0700: only the serving user reaches the socket
    path = os.path.join(folder, "helper.sock")
    env = {k: v for k, v in os.environ.items() if k != SOCKET_ENV}
    proc = subprocess.Popen([sys.executable, "-m", "formflow.sidecar", path, str(max(1, concurrency)),
                             str(os.getpid())], env=env)

    owner = os.getpid()

    def stop() -> None:
        if os.getpid() != owner:  # a forked worker exiting (atexit runs there too) leaves the helper alone
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(folder, ignore_errors=True)

    deadline = time.monotonic() + START_TIMEOUT
    os.environ[SOCKET_ENV] = path
    while time.monotonic() < deadline and proc.poll() is None:
        if os.path.exists(path):
            try:
                if ask("verify", None, "") is False:
                    atexit.register(stop)
                    return proc
            except SidecarUnavailable:
                pass
        time.sleep(0.05)
    os.environ.pop(SOCKET_ENV, None)
    stop()
    return None


def _watch_parent(parent: int) -> None:
    """End the helper when the process that started it is gone (even if it was killed)."""
    while True:
        time.sleep(WATCH_EVERY)
        if os.getppid() != parent:
            os._exit(0)


if __name__ == "__main__":  # python -m formflow.sidecar SOCKET [CONCURRENCY [PARENT_PID]]
    if len(sys.argv) > 3:
        threading.Thread(target=_watch_parent, args=(int(sys.argv[3]),), daemon=True).start()
    serve(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
