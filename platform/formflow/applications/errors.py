"""What the application use cases refuse: refusals with a code, the message and where."""

from __future__ import annotations

from typing import Any

from formflow.text.catalogue import _
from formflow.text.errors import FieldProblem, Refusal


class ApplicationError(Refusal):
    """A refusal the citizen (or the clerk helping them) can read."""

    code = "application"
    status = 422


class StaleDraft(ApplicationError):
    """The draft changed since the page was loaded (another tab, another device)."""

    code = "stale_draft"
    status = 409

    def __init__(self, current_version: int) -> None:
        super().__init__(_("This application was changed on another page or device; this page was not saved. "
                           "Please check the contents below and save again (what you typed is still on this page)."),
                         current_version=current_version)
        self.current_version = current_version


class NotEditable(ApplicationError):
    code = "not_editable"
    status = 409


class Incomplete(ApplicationError):
    """Full validation or the material checklist failed: `errors` say where."""

    code = "incomplete"

    def __init__(self, errors: list[Any]) -> None:
        super().__init__(_("The application still has %(n)s items to complete or correct; please check before "
                           "submitting.", n=len(errors)),
                         fields=[FieldProblem(e.pointer, e.message) for e in errors])
        self.errors = errors


class DuplicateHousehold(ApplicationError):
    code = "duplicate_household"
    status = 409

    def __init__(self, name: str, masked: str) -> None:
        super().__init__(_("Household member %(name)s (%(masked)s) is already in another application of this kind "
                           "in progress; the household cannot apply twice.", name=name, masked=masked))
        self.name = name
        self.masked = masked


class AlreadySubmitted(ApplicationError):
    code = "already_submitted"
    status = 409
