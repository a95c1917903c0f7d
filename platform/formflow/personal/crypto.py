"""Personal data at rest: authenticated encryption and keyed look-up hashes.

AES-256-GCM (the `cryptography` package) with a key id before each ciphertext,
so keys can be rotated: new writes use the first key, old rows still open with
theirs. The look-up hash is an HMAC, so equal ID numbers can be found without
storing them in the clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator

from formflow.text.catalogue import _


class DataKeyError(Exception):
    """A key is missing or malformed."""


@dataclass(frozen=True)
class DataKeys:
    """Named 32-byte keys: the first listed encrypts, all decrypt.

    The look-up key derives from the LAST listed (oldest) key: put new keys first
    when rotating, so hashes stay comparable.
    """

    keys: dict[int, bytes]
    current: int
    lookup_key: bytes

    @classmethod
    def parse(cls, spec: str) -> DataKeys:
        """`"1:<base64>,2:<base64>"` — the first listed is the current key."""
        keys: dict[int, bytes] = {}
        order: list[int] = []
        for part in filter(None, (p.strip() for p in spec.split(","))):
            kid, _sep, b64 = part.partition(":")
            try:
                key = base64.b64decode(b64, validate=True)
                ident = int(kid)
            except ValueError as exc:
                raise DataKeyError(_("Malformed data key: %(key)s (should be number:base64)", key=repr(kid))) from exc
            if len(key) != 32 or not 0 < ident < 256:
                raise DataKeyError(_("Data key %(key)s should be 32 bytes with a number 1–255", key=repr(kid)))
            keys[ident] = key
            order.append(ident)
        if not keys:
            raise DataKeyError(_("No data keys are configured (FORMFLOW_DATA_KEYS)"))
        lookup = hashlib.sha256(b"formflow-lookup" + keys[order[-1]]).digest()
        return cls(keys, order[0], lookup)

    @classmethod
    def from_environment(cls, instance_dir: Path, *, demo: bool | None = None) -> DataKeys:
        """FORMFLOW_DATA_KEYS, else the key file FORMFLOW_DATA_KEYS_FILE, else (demo only) one made in instance/.

        In production (`FORMFLOW_DEMO=0`) the keys must not sit beside the data: a key file inside the
        instance folder, or readable by others than its owner, is refused, and none is made there.
        """
        production = not (demo if demo is not None else os.environ.get("FORMFLOW_DEMO", "1") == "1")
        spec = os.environ.get("FORMFLOW_DATA_KEYS")
        if spec:
            return cls.parse(spec)
        named = os.environ.get("FORMFLOW_DATA_KEYS_FILE")
        if named:
            return cls.parse(_key_file(Path(named), instance_dir, production))
        if production:
            raise DataKeyError(_("FORMFLOW_DEMO=0: the data keys must come from FORMFLOW_DATA_KEYS or a key file "
                                 "outside the instance folder (FORMFLOW_DATA_KEYS_FILE); a backup of %(folder)s "
                                 "must not carry them", folder=str(instance_dir)))
        path = instance_dir / "data.keys"
        if not path.exists():
            instance_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write("1:" + base64.b64encode(os.urandom(32)).decode())
        return cls.parse(path.read_text().strip())

    def seal(self, plaintext: str) -> bytes:
        nonce = os.urandom(12)
        body = AESGCM(self.keys[self.current]).encrypt(nonce, plaintext.encode(), None)
        return bytes([self.current]) + nonce + body

    def open(self, sealed: bytes) -> str:
        key = self.keys.get(sealed[0])
        if key is None:
            raise DataKeyError(_("There is no data key number %(n)s", n=sealed[0]))
        return AESGCM(key).decrypt(sealed[1:13], sealed[13:], None).decode()

    def lookup(self, value: str) -> str:
        normal = value.strip().upper()
        return hmac.new(self.lookup_key, normal.encode(), hashlib.sha256).hexdigest()


def _key_file(path: Path, instance_dir: Path, production: bool) -> str:
    """The key file's text; in production it must be outside the instance folder and private (0600)."""
    path = path.expanduser().resolve()
    if production and path.is_relative_to(instance_dir.resolve()):
        raise DataKeyError(_("FORMFLOW_DATA_KEYS_FILE %(path)s is inside the instance folder; keep the keys apart "
                             "from the data", path=str(path)))
    try:
        mode = path.stat().st_mode
        text = path.read_text().strip()
    except OSError as exc:
        raise DataKeyError(_("FORMFLOW_DATA_KEYS_FILE %(path)s cannot be read (%(reason)s)", path=str(path),
                             reason=exc.strerror or exc)) from exc
    if production and mode & 0o077:
        raise DataKeyError(_("FORMFLOW_DATA_KEYS_FILE %(path)s may be read by others; make it 0600", path=str(path)))
    return text


_ACTIVE: DataKeys | None = None


def install(keys: DataKeys) -> None:
    """Make `keys` the ones sealed columns use in this process (the app and CLI call this)."""
    global _ACTIVE
    _ACTIVE = keys


def active_keys() -> DataKeys:
    """The installed keys, or the deployment's (environment or instance key file)."""
    global _ACTIVE
    if _ACTIVE is None:
        from formflow.config import Settings

        _ACTIVE = DataKeys.from_environment(Settings().instance_dir)
    return _ACTIVE


class SealedJSON(TypeDecorator):
    """A JSON value stored AES-GCM encrypted: what a citizen typed is never in the clear on disk."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return active_keys().seal(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return json.loads(active_keys().open(bytes(value)))
