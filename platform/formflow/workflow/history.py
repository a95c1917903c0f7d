"""Titles of the history events the platform itself writes (one place for all views).

Workflow actions take their titles from the pinned workflow; these are the
platform's own events: drafts, files, submission, timers, objections.
"""

from __future__ import annotations

EVENT_TITLES: dict[str, str] = {
    "draft_created": "创建申请",
    "draft_saved": "暂存",
    "file_uploaded": "上传材料",
    "file_removed": "删除材料",
    "elicence_fetched": "获取电子证照",
    "signature_saved": "手写签名",
    "submit": "提交申请",
    "mark": "填写审查表",
    "expire": "期满自动流转",
    "overdue": "超过办理时限",
    "record_objection": "登记异议",
    "dismiss_objection": "异议不成立",
    "answer_correction": "提交补正材料",
    "withdraw": "放弃申请",
    "withdrawn": "放弃申请",
}
#: Events a reviewer need not see (the citizen's draft saves).
HIDDEN_FROM_REVIEWERS = frozenset({"draft_created", "draft_saved"})
#: Events a citizen need not see (reviewers' working markings).
HIDDEN_FROM_CITIZENS = frozenset({"mark"})
