"""Where a redirect may go: only a same-site path (no open redirect via `next=` or `back=`)."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_target(target: str | None, default: str) -> str:
    """`target` when it is a path on this site ("/…", not "//host" nor "/\\host"), else `default`."""
    target = (target or "").strip()
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc and not parts.scheme:
        return target
    return default
