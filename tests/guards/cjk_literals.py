"""Find Chinese text in Python string literals (docstrings and comments are not shown to people).

`python tests/guards/cjk_literals.py FILE…` lists each literal with its line;
the guard test runs the same check over all of platform/.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                found.add(id(body[0].value))
    return found


def literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant holding CJK that is not a docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip \
                and CJK.search(node.value):
            out.append((node.lineno, node.value))
    return sorted(out)


if __name__ == "__main__":
    total = 0
    for name in sys.argv[1:]:
        for line, text in literals(Path(name)):
            total += 1
            print(f"{name}:{line}: {text[:80]!r}")
    print(f"{total} literal(s)")
    sys.exit(1 if total else 0)
