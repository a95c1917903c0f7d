"""Refusals: errors a person reads, as objects with a code, the message and details.

Every layer raises a `Refusal` (or a subclass) when it says no: the use case
decides the code, the message (from the catalogue) and the details (the field
or file, the JSON pointer, the current state). The web renders `message` on the
page; the API answers `{"error": {"code", "message", "fields", …details}}` with
`status`. Nobody cuts text out of `str(exc)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    """One problem at one field (JSON pointer into the application data) or file."""

    pointer: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "message": self.message}


class Refusal(Exception):
    """Base of every refusal: `code` (stable, for programs), `message` (for people), `details`."""

    code: str = "refused"
    status: int = 422

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 fields: Iterable[FieldProblem] = (), **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields = list(fields)
        self.details: dict[str, Any] = details

    def as_dict(self) -> dict[str, Any]:
        """The API's error body (without the envelope)."""
        return {"code": self.code, "message": self.message, "fields": [f.as_dict() for f in self.fields],
                **_jsonable(self.details)}

    def __str__(self) -> str:
        return self.message


class NotFound(Refusal):
    code = "not_found"
    status = 404


class Forbidden(Refusal):
    code = "forbidden"
    status = 403


class Conflict(Refusal):
    code = "conflict"
    status = 409


def _jsonable(details: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in details.items():
        if hasattr(value, "as_dict"):
            value = value.as_dict()
        out[key] = value
    return out
