"""After approval (blueprint `housing`, /housing): waiting list, lottery, subsidy roster,
household archives (one file per household), follow-up campaigns, dashboards, and the citizen's own archive —
one module a screen.

Who may use each part is the pack's decision (allocation.yaml `roles`, business
roles only); a role held at an office of the pack reaches the households under
that office. Anyone else (the configurator included) gets 404.
Every household change goes through `formflow.allocation` in one transaction
with its history event; a GET never writes.
"""

from formflow.web.housing import archive, dashboard, followup, lottery, subsidy, waiting  # noqa: F401 (routes)
from formflow.web.housing.common import _download, _today, bp
from formflow.web.housing.lottery import lottery_response
from formflow.web.housing.waiting import waiting_rows

__all__ = ["_download", "_today", "bp", "lottery_response", "waiting_rows"]
