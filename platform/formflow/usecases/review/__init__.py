"""Reviewing: the queue, marking a stage's table, the actions on offer, taking one, objections.

One function per thing a reviewer does; the desk (`web/desk.py`) and the API
(`api/views_review.py`) only parse input, call these and render the result.

Reach: a reviewer sees an application only when it lies under one of the
offices where they hold a role owning a stage of its pack's workflow
(`reviews.queue.reach_of`); anything else is refused as `NotInReach` (404),
the same on both channels. A stage is the reviewer's when it is current and
they hold its owner role at the owning office; marking another stage is
refused the same way.

Marking: rows of a table about a material this application neither requires
nor provided (`reviews.tables.not_applicable_rows`) are not applicable. Left blank
they are recorded as `na`; marked pass or fail they are refused, naming the
row. Every change goes through the workflow engine or `record_marking`, in
the caller's transaction with its history event.

The modules: `reach` (who may see an application and which stages are
theirs), `worklist` (the queue and its filters), `marking` (a stage's review
table), `acting` (the actions on offer, taking one), `at_hand` (everything a
reviewer may do on one application now), `objections` (timer stages) and
`refusals`.
"""

from __future__ import annotations

from formflow.usecases.review.acting import (
    NOTE_MAX,
    Acted,
    ActionOffer,
    ActionsOffered,
    act,
    available_actions,
    refusal_before_acting,
)
from formflow.usecases.review.at_hand import AtHand, ObjectionLine, StageAtHand, stages_at_hand
from formflow.usecases.review.marking import OUTCOME_TITLES, VERDICTS, Marked, MarkingForm, mark, marking_form
from formflow.usecases.review.objections import dismiss_objection, record_objection
from formflow.usecases.review.reach import StageRef, load, reach
from formflow.usecases.review.refusals import NoTable, NotInReach, ObjectionNoteRequired, UnknownAction
from formflow.usecases.review.worklist import (
    PAGE_SIZE,
    FilterOptions,
    PageRequest,
    QueueResult,
    QueueRow,
    queue,
    queue_filters,
)

__all__ = [
    "Acted", "ActionOffer", "ActionsOffered", "AtHand", "FilterOptions", "Marked", "MarkingForm", "NOTE_MAX",
    "NoTable", "NotInReach", "OUTCOME_TITLES", "ObjectionLine", "ObjectionNoteRequired", "PAGE_SIZE", "PageRequest",
    "QueueResult", "QueueRow", "StageAtHand", "StageRef", "UnknownAction", "VERDICTS", "act", "available_actions",
    "dismiss_objection", "load", "mark", "marking_form", "queue", "queue_filters", "reach", "record_objection",
    "refusal_before_acting", "stages_at_hand"
]
