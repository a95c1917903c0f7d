"""Passwords: Argon2id (memory-hard) hashes, bounded per process, and the password policy.

Each Argon2id check takes 64 MiB for ~0.13 s: a semaphore (FORMFLOW_ARGON2_CONCURRENCY,
default 1) bounds how many run at once in one process, so a burst of sign-ins queues
(ten at once: about 1.3 s for the last) instead of taking 64 MiB each. An unknown
account is checked against a dummy hash, so it costs the same time as a known one (no
account enumeration by timing).

Under `formflow serve` the checks run in the one serve helper process (`formflow.sidecar`), so the
64 MiB of a check is not in any serving worker; elsewhere (tests, CLI) they run here.

The policy refuses (ASVS 2.1.7) the 10,000 most common passwords (`data/common-passwords.txt`,
from zxcvbn's frequency list, see its header), keyboard and alphabet sequences, and
repeated characters.
"""

from __future__ import annotations

import re
import string
from functools import cache
from importlib import resources

from formflow import sidecar
from formflow.auth import hasher
from formflow.text.catalogue import _

HASHER = hasher.HASHER
MIN_LENGTH = 10
CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
DEFAULT_CONCURRENCY = hasher.DEFAULT_CONCURRENCY
#: how many Argon2 checks may run at once in this process (the setting FORMFLOW_ARGON2_CONCURRENCY)
set_concurrency = hasher.set_concurrency
concurrency = hasher.concurrency
#: rows of the keyboard and runs of the alphabet and digits (a password may not hold 5 in a row of one)
SEQUENCES = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890", "0987654321", string.ascii_lowercase,
             "1qaz2wsx3edc4rfv", "qazwsxedcrfvtgb")
SEQUENCE_RUN = 5
REPEAT_RUN = 4


def hash_password(password: str) -> str:
    try:
        return str(sidecar.ask("hash", password))
    except sidecar.SidecarUnavailable:
        return hasher.hash_password(password, HASHER)


def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches; an absent hash still costs one full check (a dummy one)."""
    try:
        return bool(sidecar.ask("verify", stored, password))
    except sidecar.SidecarUnavailable:
        return hasher.check(stored, password, HASHER)


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("formflow.auth").joinpath("data/common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _is_common(password: str) -> bool:
    lowered = password.lower()
    core = re.sub(r"^[^a-z]+|[^a-z]+$", "", lowered)  # "Password2026!" → "password"
    common = common_passwords()
    return lowered in common or (len(core) * 2 >= len(lowered) and core in common)


def _has_sequence(password: str) -> bool:
    lowered = password.lower()
    for i in range(len(lowered) - SEQUENCE_RUN + 1):
        run = lowered[i:i + SEQUENCE_RUN]
        if any(run in seq or run in seq[::-1] for seq in SEQUENCES):
            return True
    return False


def _has_repeats(password: str) -> bool:
    return bool(re.search(r"(.)\1{" + str(REPEAT_RUN - 1) + ",}", password)) or len(set(password.lower())) <= 3


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
    if _is_common(password):
        problems.append(_("The password is one of the most commonly used passwords; please choose another"))
    if _has_sequence(password):
        problems.append(_("The password contains a keyboard or alphabet sequence (such as qwert or 12345); "
                          "please choose another"))
    if _has_repeats(password):
        problems.append(_("The password repeats the same character (such as aaaa); please choose another"))
    return problems
