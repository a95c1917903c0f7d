"""After approval: waiting list, verifiable lottery, subsidy roster, follow-up checks.

What a locality decides (who enters, the priority rule, the subsidy formula,
which workflow handles follow-up outcomes, who may run each part) is read
from the matter's `allocation.yaml` (docs/formats.md); this package only
knows the generic ideas: households with a mode of kind `flat` or `subsidy`.
"""
