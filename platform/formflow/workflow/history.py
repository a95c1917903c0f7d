"""Titles of the history events the platform itself writes (one place for all views).

Workflow actions take their titles from the pinned workflow (the action AT the
stage it was taken, `usecases.timeline`); these are the platform's own events:
drafts, files, submission, timers, objections. The msgids are English, the
Chinese is in `text/translations/zh_CN/viewing.po`.
"""

from __future__ import annotations

from formflow.text.catalogue import lazy

EVENT_TITLES = {
    "draft_created": lazy("Application started"),
    "draft_saved": lazy("Draft saved"),
    "file_uploaded": lazy("Material uploaded"),
    "file_removed": lazy("Material removed"),
    "elicence_fetched": lazy("E-licences fetched"),
    "signature_saved": lazy("Signed by hand"),
    "submit": lazy("Application submitted"),
    "mark": lazy("Review table filled in"),
    "expire": lazy("Moved on when the period ended"),
    "overdue": lazy("Time limit exceeded"),
    "record_objection": lazy("Objection recorded"),
    "dismiss_objection": lazy("Objection not upheld"),
    "answer_correction": lazy("Corrected materials submitted"),
    "withdraw": lazy("Application withdrawn"),
    "withdrawn": lazy("Application withdrawn"),
    "deadline_recomputed": lazy("Time limit counted again for the new holiday calendar"),
    "file_quarantined": lazy("A virus was found in an uploaded material; please upload it again"),
    "lottery_won": lazy("Drawn in the lottery: a flat"),
    "lottery_lost": lazy("Drawn in the lottery: no flat"),
}
#: Events a reviewer need not see (the citizen's draft saves).
HIDDEN_FROM_REVIEWERS = frozenset({"draft_created", "draft_saved"})
#: Events a citizen need not see: reviewers' working markings (`mark`), and the many draft saves.
HIDDEN_FROM_CITIZENS = frozenset({"mark", "draft_saved"})


def event_title(action: str) -> str:
    """The platform's own title of `action` (the id itself when it has none)."""
    title = EVENT_TITLES.get(action)
    return str(title) if title is not None else action
