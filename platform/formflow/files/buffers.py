"""An upload received from the request, without holding it whole in memory.

`receive` copies the request's file stream in pieces to an unlinked temporary file and maps it
(`mmap`, read-only): inspection, the virus scan, hashing and sealing then read it as a bytes-like
object whose pages the kernel brings in and drops as needed. Small uploads stay plain `bytes`.
At most `limit + 1` bytes are read, so an oversized upload is refused by its size without the
rest being read.
"""

from __future__ import annotations

import mmap
import tempfile
from typing import IO

#: Uploads up to this size are kept as bytes; larger ones are spooled to disk and mapped.
IN_MEMORY = 1024 * 1024
_PIECE = 256 * 1024

Buffer = bytes | mmap.mmap


def receive(stream: IO[bytes], limit: int) -> Buffer:
    """What `stream` holds, up to `limit + 1` bytes: bytes when small, else a read-only map of a temporary file."""
    first = stream.read(min(IN_MEMORY, limit + 1))
    if len(first) < IN_MEMORY or len(first) > limit:
        return first
    with tempfile.TemporaryFile(prefix="formflow-upload-") as spool:
        spool.write(first)
        left = limit + 1 - len(first)
        while left > 0 and (piece := stream.read(min(_PIECE, left))):
            spool.write(piece)
            left -= len(piece)
        spool.flush()
        return mmap.mmap(spool.fileno(), 0, access=mmap.ACCESS_READ)


__all__ = ["Buffer", "IN_MEMORY", "receive"]
