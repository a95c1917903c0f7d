"""Text in a diagram: characters XML cannot hold removed, widths estimated, lines wrapped.

Widths are estimates (CJK and symbols 1em, Latin about 0.6em); closing
punctuation never starts a line.
"""

from __future__ import annotations

import re
from typing import Any

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# Code points (typography, not words): closing marks, full-width then ASCII.
_NO_LINE_START = {chr(c) for c in (
    0xFF0C, 0x3002, 0x3001, 0xFF1B, 0xFF1A, 0xFF01, 0xFF1F, 0xFF09, 0x300B, 0x300D, 0x300F, 0x201D, 0x2019,
    0x002C, 0x002E, 0x003B, 0x003A, 0x0021, 0x003F, 0x0029, 0x005D)}


def clean(value: Any) -> str:
    return _INVALID_XML.sub("", str(value))


def text_width(text: str, size: float) -> float:
    """Estimated advance of `text` at font `size`: CJK and symbols 1em, Latin about 0.6em."""
    return sum(size if ord(ch) >= 0x2000 else size * 0.6 for ch in text)


def _greedy(tokens: list[str], size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for tok in tokens:
        if current and text_width(current + tok, size) > width and tok[0] not in _NO_LINE_START:
            lines.append(current)
            current = tok.lstrip()
        else:
            current += tok
    if current or not lines:
        lines.append(current)
    return lines


def wrap(text: str, size: float, width: float, keep: str = "") -> list[str]:
    """Wrap by estimated width into as few, evenly long lines as fit; closing punctuation
    never starts a line. `keep` is a suffix that is never split."""
    tokens = list(clean(text)) + ([clean(keep)] if keep else [])
    lines = _greedy(tokens, size, width)
    if len(lines) > 1:
        target = text_width("".join(tokens), size) / len(lines)
        while target < width:
            trial = _greedy(tokens, size, target)
            if len(trial) <= len(lines):
                return trial
            target += size / 2
    return lines
