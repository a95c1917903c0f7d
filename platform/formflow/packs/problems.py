"""A problem found in a configuration file, and reading files without crashing."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from formflow.text.catalogue import _

#: libyaml's parser when PyYAML was built with it (several times faster), else the pure-Python one.
_SAFE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PackYamlLoader(_SAFE_LOADER):
    """Safe YAML where only true/false are booleans (YAML 1.2): `no: 1` stays a key."""


PackYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
PackYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(text: str):
    """Parse pack YAML (see PackYamlLoader)."""
    return yaml.load(text, Loader=PackYamlLoader)  # noqa: S506 - a SafeLoader subclass


#: Severities: an error blocks (`formflow check` exits 2, the app does not start); a warning is only told.
ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """What is wrong, where: file (relative to the configuration root), JSON pointer, message.

    `severity` is ERROR or WARNING; `line`/`column` (1-based) are set for a
    file that does not parse, whose problem is then the cause of any other.
    """

    file: str
    pointer: str
    message: str
    severity: str = ERROR
    line: int | None = None
    column: int | None = None
    #: the file could not be read or parsed: the checks that depend on it were skipped
    parse: bool = False
    #: what kind of problem, when something acts on it (e.g. ROLE_NOT_HELD), and the name it is about
    code: str | None = None
    subject: str | None = None

    def sort_key(self) -> tuple[int, str, str, str]:
        """Parse errors first, then errors, then warnings; by file and pointer within each."""
        rank = 0 if self.parse else 1 if self.severity == ERROR else 2
        return rank, self.file, self.pointer, self.message

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}:{self.column or 1}: {self.message}"
        return f"{self.file}:{self.pointer or '/'}: {self.message}"


def ordered(problems: list[Problem]) -> list[Problem]:
    """Distinct problems, parse errors first, then errors, then warnings."""
    return sorted(set(problems), key=Problem.sort_key)


class Reader:
    """Reads pack files relative to a root, collecting problems instead of raising."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        #: files (relative) that exist but could not be read or parsed: checks that depend on them are skipped
        self.broken: set[str] = set()

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def problem(self, path: Path | str, pointer: str, message: str, *, severity: str = ERROR) -> None:
        file = self.rel(path) if isinstance(path, Path) else path
        self.problems.append(Problem(file, pointer, message, severity))

    def warning(self, path: Path | str, pointer: str, message: str, *, code: str | None = None,
                subject: str | None = None) -> None:
        file = self.rel(path) if isinstance(path, Path) else path
        self.problems.append(Problem(file, pointer, message, WARNING, code=code, subject=subject))

    def is_broken(self, path: Path | str | None) -> bool:
        """Whether a file exists but did not parse (so what it defines is unknown, not missing)."""
        if path is None:
            return False
        return (self.rel(path) if isinstance(path, Path) else path) in self.broken

    def parse_problem(self, path: Path, message: str, line: int | None = None, column: int | None = None) -> None:
        rel = self.rel(path)
        self.broken.add(rel)
        self.problems.append(Problem(rel, "", message, ERROR, line, column, parse=True))

    def read(self, path: Path, *, required: bool = True) -> Any:
        """Parsed content of a YAML or JSON file, or None (with a problem) if unreadable."""
        if not path.is_file():
            if required:
                self.problem(path, "", _("The file does not exist"))
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.parse_problem(path, _("Cannot be read (should be UTF-8 text): %(error)s", error=exc))
            return None
        try:
            if path.suffix == ".json":
                return json.loads(text)
            content = plain(load_yaml(text))
            if content is None:
                self.parse_problem(path, _("The file is empty (or holds only comments)"), 1, 1)
            return content
        except json.JSONDecodeError as exc:
            self.parse_problem(path, _("JSON syntax error (line %(line)s, column %(column)s): %(error)s",
                                       line=exc.lineno, column=exc.colno, error=exc.msg), exc.lineno, exc.colno)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            error = getattr(exc, "problem", None) or getattr(exc, "context", None) or exc
            if mark:
                line, column = mark.line + 1, mark.column + 1
                self.parse_problem(path, _("YAML syntax error (line %(line)s, column %(column)s): %(error)s",
                                           line=line, column=column, error=error), line, column)
            else:
                self.parse_problem(path, _("YAML syntax error: %(error)s", error=error))
        return None


def plain(value: Any) -> Any:
    """YAML values as JSON values: dates become ISO strings, keys become strings."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, dt.date) else k.isoformat(): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
