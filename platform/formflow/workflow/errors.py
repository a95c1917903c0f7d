"""What the engine refuses, and why: refusals with a code, the message and the current state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from formflow.text.catalogue import _
from formflow.text.errors import FieldProblem, NotFound, Refusal


class WorkflowError(Refusal):
    """Base of every refusal of the workflow engine."""

    code = "workflow"
    status = 409


@dataclass(frozen=True)
class CurrentState:
    """Where an application is now (given to someone whose view was stale)."""

    application_id: int
    version: int
    status: str
    stages: tuple[str, ...]
    stage_titles: tuple[str, ...]
    result: str | None = None

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["stages"] = list(self.stages)
        found["stage_titles"] = list(self.stage_titles)
        return found


class StaleApplication(WorkflowError):
    """Someone else changed the application since the caller loaded it."""

    code = "stale"

    def __init__(self, current: CurrentState, expected: int | None = None) -> None:
        self.current = current
        self.expected = expected
        where = _(", ").join(current.stage_titles) or current.status
        super().__init__(_("This application has already been handled by someone else; it is now at: %(where)s. "
                           "Please refresh and try again.", where=where), current=current)


class ActionNotAvailable(WorkflowError):
    """The action cannot be taken here, now, by this role."""

    code = "not_available"

    def __init__(self, action: str, stage: str | None, role: str, why: str = "") -> None:
        self.action = action
        self.stage = stage
        self.role = role
        self.why = why
        super().__init__(why or _("This action cannot be taken now."), action=action, stage=stage)

    def __str__(self) -> str:
        """For logs and developers (people read `message`)."""
        return f"action {self.action!r} is not available at stage {self.stage!r} for role {self.role!r}: {self.message}"


class GuardNotMet(ActionNotAvailable):
    """The actor may take the action, but its precondition does not hold now."""

    code = "guard_not_met"


class ReasonRequired(WorkflowError):
    code = "reason_required"
    status = 422

    def __init__(self, action: str, stage: str | None) -> None:
        self.action = action
        self.stage = stage
        message = _("Please give a reason.")
        super().__init__(message, fields=[FieldProblem("/reason", message)], action=action, stage=stage)

    def __str__(self) -> str:
        return f"action {self.action!r} at stage {self.stage!r} requires a reason: {self.message}"


class UnknownApplication(WorkflowError, NotFound, LookupError):
    code = "not_found"
    status = 404

    def __init__(self, app_id: int) -> None:
        super().__init__(_("The application does not exist."), application_id=app_id)


class ObjectionError(WorkflowError):
    """An objection cannot be recorded or resolved as asked."""

    code = "objection"


def roles_text(roles: Sequence[str]) -> str:
    return ",".join(roles) if roles else "none"
