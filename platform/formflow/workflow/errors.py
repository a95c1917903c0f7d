"""What the engine refuses, and why, in words a caller can show."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class WorkflowError(Exception):
    """Base of every refusal of the workflow engine."""


@dataclass(frozen=True)
class CurrentState:
    """Where an application is now (given to someone whose view was stale)."""

    application_id: int
    version: int
    status: str
    stages: tuple[str, ...]
    stage_titles: tuple[str, ...]
    result: str | None = None


class StaleApplication(WorkflowError):
    """Someone else changed the application since the caller loaded it."""

    def __init__(self, current: CurrentState, expected: int | None = None) -> None:
        self.current = current
        self.expected = expected
        where = "、".join(current.stage_titles) or current.status
        super().__init__(
            f"application {current.application_id} is at version {current.version}, "
            f"not {expected}：该申请已被他人处理，当前环节：{where}，请刷新后重试"
        )


class ActionNotAvailable(WorkflowError):
    """The action cannot be taken here, now, by this role."""

    def __init__(self, action: str, stage: str | None, role: str, why: str = "") -> None:
        self.action = action
        self.stage = stage
        self.role = role
        self.why = why
        message = f"action {action!r} is not available at stage {stage!r} for role {role!r}"
        super().__init__(f"{message}：{why}" if why else message)


class GuardNotMet(ActionNotAvailable):
    """The actor may take the action, but its precondition does not hold now."""


class ReasonRequired(WorkflowError):
    def __init__(self, action: str, stage: str | None) -> None:
        self.action = action
        self.stage = stage
        super().__init__(f"action {action!r} at stage {stage!r} requires a reason：请填写理由")


class UnknownApplication(WorkflowError, LookupError):
    def __init__(self, app_id: int) -> None:
        super().__init__(f"application {app_id!r} does not exist：申请不存在")


class ObjectionError(WorkflowError):
    """An objection cannot be recorded or resolved as asked."""


def roles_text(roles: Sequence[str]) -> str:
    return ",".join(roles) if roles else "none"
