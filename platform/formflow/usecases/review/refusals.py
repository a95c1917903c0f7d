"""The refusals of reviewing, the same code and message on the desk and the API.

`NotInReach` (404: the application does not exist, lies outside the
reviewer's offices, or the stage is not theirs), `NoTable`, an objection
without its note, and a stage or action the workflow does not have.
"""

from __future__ import annotations

from formflow.text.catalogue import _
from formflow.text.errors import FieldProblem, NotFound, Refusal
from formflow.workflow import engine
from formflow.workflow.errors import ReasonRequired


class NotInReach(NotFound):
    """The application does not exist, or lies outside the reviewer's offices (or the stage is not theirs)."""

    def __init__(self, app_id: int | None = None) -> None:
        self.application_id = app_id
        super().__init__(_("The application does not exist or is not within your remit."))


class NoTable(NotFound):
    """The stage marks no review table."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        super().__init__(_("This stage has no review table."))


class ObjectionNoteRequired(ReasonRequired):
    """An objection is recorded with what it says."""

    def __init__(self, stage: str) -> None:
        self.action = engine.RECORD_OBJECTION
        self.stage = stage
        message = _("Please write down the objection.")
        Refusal.__init__(self, message, fields=[FieldProblem("/note", message)], action=self.action, stage=stage)


class UnknownAction(Refusal):
    """The request names a stage or an action the application's workflow does not have (a bad request)."""

    code = "unknown_action"
    status = 400

    def __init__(self, action: str, stage: str | None) -> None:
        message = _("The workflow has no such stage or action; please reload the page and choose again.")
        super().__init__(message, fields=[FieldProblem("/action", message)], action=action, stage=stage)
