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


@dataclass(frozen=True, order=True)
class Problem:
    """What is wrong, where: file (relative to the configuration root), JSON pointer, message."""

    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.pointer or '/'}: {self.message}"


class Reader:
    """Reads pack files relative to a root, collecting problems instead of raising."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def problem(self, path: Path | str, pointer: str, message: str) -> None:
        file = self.rel(path) if isinstance(path, Path) else path
        self.problems.append(Problem(file, pointer, message))

    def read(self, path: Path, *, required: bool = True) -> Any:
        """Parsed content of a YAML or JSON file, or None (with a problem) if unreadable."""
        if not path.is_file():
            if required:
                self.problem(path, "", _("The file does not exist"))
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(path, "", _("Cannot be read (should be UTF-8 text): %(error)s", error=exc))
            return None
        try:
            if path.suffix == ".json":
                return json.loads(text)
            return plain(load_yaml(text))
        except json.JSONDecodeError as exc:
            self.problem(path, "", _("JSON syntax error (line %(line)s, column %(column)s): %(error)s",
                                     line=exc.lineno, column=exc.colno, error=exc.msg))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            error = getattr(exc, "problem", exc)
            if mark:
                self.problem(path, "", _("YAML syntax error (line %(line)s, column %(column)s): %(error)s",
                                         line=mark.line + 1, column=mark.column + 1, error=error))
            else:
                self.problem(path, "", _("YAML syntax error: %(error)s", error=error))
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
