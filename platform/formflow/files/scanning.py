"""Virus scanning of uploads: a plugin kind (`scanners`, chosen by FORMFLOW_SCANNER), with a ClamAV adapter.

`none` (the default) scans nothing. `clamav` sends each upload to `clamd` over its
socket (FORMFLOW_CLAMD, `unix:/run/clamav/clamd.ctl` or `host:3310`) with the
INSTREAM command. The protocol is written here by hand (about twenty lines:
`zINSTREAM\\0`, chunks each prefixed by its 4-byte big-endian length, a zero
length, one answer line) because the `clamd` package on PyPI has not been
released since 2014.

`scan` answers one of three verdicts: clean, infected (the signature's name), or
unavailable (the scanner could not be reached or answered an error): the caller
refuses infected files and holds the others until a scan succeeds.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Any, Protocol

from formflow.files.buffers import Buffer
from formflow.plugins import Registry
from formflow.text.catalogue import _, lazy

CLEAN, INFECTED, UNAVAILABLE = "clean", "infected", "unavailable"
#: `StoredFile.scan_status` of an upload no scan has passed yet (the scanner was down).
HELD = "held"
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Verdict:
    outcome: str  # clean | infected | unavailable
    detail: str = ""  # the signature found, or why the scanner could not answer


class Scanner(Protocol):
    def scan(self, data: Buffer) -> Verdict: ...


#: Virus scanners, by name (`settings.scanner` chooses one).
scanners: Registry[Scanner] = Registry(lazy("virus scanner"), "FORMFLOW_SCANNER")


@scanners.register("none")
class NoScanner:
    """No scanning (the embedded default): every file is clean."""

    @classmethod
    def from_settings(cls, settings: Any, **_context: Any) -> NoScanner:
        return cls()

    def scan(self, data: Buffer) -> Verdict:
        return Verdict(CLEAN)


@scanners.register("clamav")
@dataclass(frozen=True)
class ClamdScanner:
    """ClamAV's daemon over a Unix or TCP socket (INSTREAM)."""

    address: str
    timeout: float = 30.0

    @classmethod
    def check(cls, settings: Any) -> list[str]:
        if not getattr(settings, "clamd_address", ""):
            return [_("FORMFLOW_CLAMD: the clamd socket is not set (unix:/path/to/clamd.ctl or host:port)")]
        return []

    @classmethod
    def from_settings(cls, settings: Any, **_context: Any) -> ClamdScanner:
        return cls(settings.clamd_address)

    def _connect(self) -> socket.socket:
        if self.address.startswith("unix:"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            sock.connect(self.address[5:])
            return sock
        host, _sep, port = self.address.rpartition(":")
        return socket.create_connection((host or "127.0.0.1", int(port)), timeout=self.timeout)

    def scan(self, data: Buffer) -> Verdict:
        try:
            with self._connect() as sock:
                sock.sendall(b"zINSTREAM\0")
                for start in range(0, len(data), CHUNK):
                    piece = data[start:start + CHUNK]
                    sock.sendall(struct.pack(">I", len(piece)) + piece)
                sock.sendall(struct.pack(">I", 0))
                answer = b""
                while not answer.endswith(b"\0"):
                    more = sock.recv(4096)
                    if not more:
                        break
                    answer += more
        except (OSError, ValueError) as exc:
            return Verdict(UNAVAILABLE, str(exc))
        text = answer.rstrip(b"\0").decode("utf-8", "replace")
        if text.endswith(" FOUND"):
            return Verdict(INFECTED, text.removeprefix("stream: ").removesuffix(" FOUND"))
        if text.endswith(": OK"):
            return Verdict(CLEAN)
        return Verdict(UNAVAILABLE, text or "no answer")


def scanner_of(settings: Any) -> Scanner:
    """The scanner the settings choose (`none` when they choose nothing)."""
    return scanners.create(getattr(settings, "scanner", "none") or "none", settings)


__all__ = ["CLEAN", "HELD", "INFECTED", "UNAVAILABLE", "ClamdScanner", "NoScanner", "Scanner", "Verdict", "scanner_of",
           "scanners"]
