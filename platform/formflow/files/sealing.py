"""Envelope encryption of stored files: a data key per file, wrapped by a master (data) key.

A sealed file is

    b"FFS1" | key id (1 byte) | nonce (12) | wrapped data key (48) | nonce (12) | AES-256-GCM ciphertext

The data key is random per file and wrapped (AES-GCM) with the numbered key of
`personal.crypto.DataKeys`; the content is bound to its SHA-256 as associated data, so a
file moved under another name does not open. Rotation (`rewrap`) re-wraps only the data key
with the current master key: the content is not re-encrypted. Files written before sealing
(no magic) are read as they are, so an existing store keeps working and can be sealed in
place (`seal_file`).
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from formflow.personal.crypto import DataKeyError, DataKeys
from formflow.text.catalogue import _

MAGIC = b"FFS1"
_HEADER = len(MAGIC) + 1 + 12 + 48 + 12


def is_sealed(blob: bytes) -> bool:
    return blob.startswith(MAGIC) and len(blob) >= _HEADER + 16


def key_id(blob: bytes) -> int | None:
    """The master key number a sealed file's data key is wrapped with (None: a plain file)."""
    return blob[len(MAGIC)] if is_sealed(blob) else None


def _wrap(keys: DataKeys, data_key: bytes) -> bytes:
    nonce = os.urandom(12)
    return bytes([keys.current]) + nonce + AESGCM(keys.keys[keys.current]).encrypt(nonce, data_key, MAGIC)


def _unwrap(keys: DataKeys, blob: bytes) -> bytes:
    at = len(MAGIC)
    master = keys.keys.get(blob[at])
    if master is None:
        raise DataKeyError(_("There is no data key number %(n)s", n=blob[at]))
    return AESGCM(master).decrypt(blob[at + 1:at + 13], blob[at + 13:at + 61], MAGIC)


def seal(keys: DataKeys, data: bytes, sha256: str) -> bytes:
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    return MAGIC + _wrap(keys, data_key) + nonce + AESGCM(data_key).encrypt(nonce, data, sha256.encode())


def open_blob(keys: DataKeys, blob: bytes, sha256: str) -> bytes:
    """The content of a stored blob: decrypted if sealed, as it is if written before sealing."""
    if not is_sealed(blob):
        return blob
    data_key = _unwrap(keys, blob)
    start = _HEADER
    return AESGCM(data_key).decrypt(blob[start - 12:start], blob[start:], sha256.encode())


def rewrap(keys: DataKeys, blob: bytes) -> bytes:
    """The same sealed file with its data key wrapped by the current master key (plain files unchanged)."""
    if not is_sealed(blob) or blob[len(MAGIC)] == keys.current:
        return blob
    return MAGIC + _wrap(keys, _unwrap(keys, blob)) + blob[_HEADER - 12:]


__all__ = ["MAGIC", "is_sealed", "key_id", "open_blob", "rewrap", "seal"]
