"""Passwords: Argon2id (memory-hard) hashes and the password policy."""

from __future__ import annotations

import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from formflow.text.catalogue import _

HASHER = PasswordHasher()
MIN_LENGTH = 10
CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def policy_problems(password: str, username: str) -> list[str]:
    """Why a new password is refused (empty list: accepted)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("The password needs at least %(n)s characters", n=MIN_LENGTH))
    classes = sum(any(c in cls for c in password) for cls in CLASSES)
    classes += any(not c.isalnum() for c in password)
    if classes < 3:
        problems.append(_("The password needs at least three of: capital letters, small letters, digits, symbols"))
    if username and username.lower() in password.lower():
        problems.append(_("The password may not contain the account name"))
    return problems
