"""The Argon2id check itself, the same in a serving worker and in the serve helper (formflow.sidecar).

Imports nothing but argon2, so the helper process stays small. An unknown account
costs one full check of a dummy hash (no account enumeration by timing).
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()


@cache
def dummy_hash() -> str:
    """A fixed account-less hash: an unknown account costs one full check of it."""
    return HASHER.hash("formflow-dummy-password-for-unknown-accounts")


def check(stored: str | None, password: str, hasher: PasswordHasher = HASHER) -> bool:
    """True when `password` matches `stored`; no stored hash still costs one check (of the dummy)."""
    try:
        if not stored:
            hasher.verify(dummy_hash(), password)
            return False
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
