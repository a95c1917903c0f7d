"""The Argon2id checks themselves, bounded per process, the same in a serving worker and in the serve
helper (formflow.sidecar).

Each check takes 64 MiB: a semaphore (`set_concurrency`, the setting FORMFLOW_ARGON2_CONCURRENCY)
bounds how many run at once in the process, the others wait. Imports nothing but argon2, so the
helper process stays small. An unknown account costs one full check of a dummy hash (no account
enumeration by timing).
"""

from __future__ import annotations

import threading
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()
DEFAULT_CONCURRENCY = 1
_slots = threading.BoundedSemaphore(DEFAULT_CONCURRENCY)


def set_concurrency(n: int) -> None:
    """How many Argon2 checks may run at once in this process."""
    global _slots
    _slots = threading.BoundedSemaphore(max(1, n))


def concurrency() -> int:
    return _slots._initial_value  # type: ignore[attr-defined]


@cache
def dummy_hash() -> str:
    """A fixed account-less hash: an unknown account costs one full check of it."""
    return HASHER.hash("formflow-dummy-password-for-unknown-accounts")


def hash_password(password: str, hasher: PasswordHasher = HASHER) -> str:
    """The Argon2id hash of `password`, when a slot is free."""
    with _slots:
        return hasher.hash(password)


def check(stored: str | None, password: str, hasher: PasswordHasher = HASHER) -> bool:
    """True when `password` matches `stored`, when a slot is free; no stored hash still costs one check
    (of the dummy)."""
    with _slots:
        try:
            if not stored:
                hasher.verify(dummy_hash(), password)
                return False
            return hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
