"""Envelope encryption of stored files: a data key per file, wrapped by a master (data) key.

A file is sealed in chunks, so it is written and read as a stream and never whole in memory:

    b"FFS2" | key id (1) | nonce (12) | wrapped data key (48) | nonce prefix (7) | chunk size (4)
            | chunk 0 | chunk 1 | … | last chunk

Each chunk is AES-256-GCM of at most `CHUNK` bytes under the file's data key, with the nonce
`prefix | chunk index (4) | last flag (1)` and the file's SHA-256 as associated data (the STREAM
construction of Hoang, Reyhanitabar, Rogaway and Vizár): chunks cannot be reordered, dropped or
cut off at a chunk boundary without the read failing, and a file moved under another name does
not open. The data key is random per file and wrapped (AES-GCM) with the numbered key of
`personal.crypto.DataKeys`. Rotation (`rewrap`) re-wraps only the data key with the current master
key: the content is not re-encrypted.

Older stores still read: files sealed whole (`FFS1`: one AES-GCM message after the wrapped key)
and files written before sealing (no magic) are read as they are, and can be sealed in place.
`cryptography` has no streaming AEAD format of its own (its GCM encryptor streams one message with
one tag at the end, which a reader can only check after it has served every byte), hence this one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from formflow.personal.crypto import DataKeyError, DataKeys
from formflow.text.catalogue import _

MAGIC = b"FFS2"
WHOLE_MAGIC = b"FFS1"
#: Plaintext bytes per chunk.
CHUNK = 64 * 1024
_TAG = 16
_WRAP = 1 + 12 + 48
_WHOLE_HEADER = len(WHOLE_MAGIC) + _WRAP + 12
_HEADER = len(MAGIC) + _WRAP + 7 + 4


def is_sealed(blob: bytes) -> bool:
    return (blob.startswith(MAGIC) and len(blob) >= _HEADER + _TAG) or (
        blob.startswith(WHOLE_MAGIC) and len(blob) >= _WHOLE_HEADER + _TAG)


def key_id(blob: bytes) -> int | None:
    """The master key number a sealed file's data key is wrapped with (None: a plain file)."""
    return blob[len(MAGIC)] if is_sealed(blob) else None


def _wrap(keys: DataKeys, data_key: bytes) -> bytes:
    nonce = os.urandom(12)
    return bytes([keys.current]) + nonce + AESGCM(keys.keys[keys.current]).encrypt(nonce, data_key, WHOLE_MAGIC)


def _unwrap(keys: DataKeys, wrapped: bytes) -> bytes:
    """The data key from `key id | nonce | wrapped key` (the 61 bytes after the magic)."""
    master = keys.keys.get(wrapped[0])
    if master is None:
        raise DataKeyError(_("There is no data key number %(n)s", n=wrapped[0]))
    return AESGCM(master).decrypt(wrapped[1:13], wrapped[13:_WRAP], WHOLE_MAGIC)


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _pieces(source: BinaryIO, size: int) -> Iterator[tuple[bytes, bool]]:
    """`source` in pieces of `size` bytes, each with whether it is the last (one empty piece for no bytes)."""
    piece = source.read(size)
    while True:
        following = source.read(size) if len(piece) == size else b""
        yield piece, not following
        if not following:
            return
        piece = following


def seal_stream(keys: DataKeys, source: BinaryIO, sha256: str) -> Iterator[bytes]:
    """The sealed file of what `source` reads (its content has `sha256`), piece by piece."""
    data_key = AESGCM.generate_key(bit_length=256)
    prefix = os.urandom(7)
    aead, aad = AESGCM(data_key), sha256.encode()
    yield MAGIC + _wrap(keys, data_key) + prefix + CHUNK.to_bytes(4, "big")
    for index, (piece, last) in enumerate(_pieces(source, CHUNK)):
        if index >= 2**32:
            raise ValueError("file too large to seal")
        yield aead.encrypt(_nonce(prefix, index, last), piece, aad)


def seal(keys: DataKeys, data: bytes, sha256: str) -> bytes:
    import io

    return b"".join(seal_stream(keys, io.BytesIO(data), sha256))


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        piece = source.read(size - len(out))
        if not piece:
            break
        out += piece
    return bytes(out)


def open_stream(keys: DataKeys, source: BinaryIO, sha256: str) -> Iterator[bytes]:
    """The content of a stored file read from `source`, chunk by chunk.

    The header is read and the data key unwrapped before this returns (a wrong key or a
    foreign file fails here, not halfway through a response); each chunk is checked as it
    is read, and a file cut short fails at its end.
    """
    head = _read_exactly(source, len(MAGIC))
    if head == MAGIC:
        rest = _read_exactly(source, _HEADER - len(MAGIC))
        if len(rest) < _HEADER - len(MAGIC):
            raise ValueError("sealed file header cut short")
        aead = AESGCM(_unwrap(keys, rest[:_WRAP]))
        prefix, size = rest[_WRAP:_WRAP + 7], int.from_bytes(rest[_WRAP + 7:], "big")
        return _chunks(aead, source, prefix, size, sha256.encode())
    blob = head + source.read()
    return iter((open_blob(keys, blob, sha256),))


def _chunks(aead: AESGCM, source: BinaryIO, prefix: bytes, size: int, aad: bytes) -> Iterator[bytes]:
    for index, (piece, last) in enumerate(_pieces(source, size + _TAG)):
        yield aead.decrypt(_nonce(prefix, index, last), piece, aad)


def open_blob(keys: DataKeys, blob: bytes, sha256: str) -> bytes:
    """The content of a stored blob: decrypted if sealed, as it is if written before sealing."""
    if blob.startswith(MAGIC) and is_sealed(blob):
        import io

        return b"".join(open_stream(keys, io.BytesIO(blob), sha256))
    if not is_sealed(blob):
        return blob
    data_key = _unwrap(keys, blob[len(WHOLE_MAGIC):len(WHOLE_MAGIC) + _WRAP])
    start = _WHOLE_HEADER
    return AESGCM(data_key).decrypt(blob[start - 12:start], blob[start:], sha256.encode())


def rewrap(keys: DataKeys, blob: bytes) -> bytes:
    """The same sealed file with its data key wrapped by the current master key (plain files unchanged)."""
    if not is_sealed(blob) or blob[len(MAGIC)] == keys.current:
        return blob
    at = len(MAGIC)
    return blob[:at] + _wrap(keys, _unwrap(keys, blob[at:at + _WRAP])) + blob[at + _WRAP:]


__all__ = ["CHUNK", "MAGIC", "is_sealed", "key_id", "open_blob", "open_stream", "rewrap", "seal", "seal_stream"]
