"""Webhooks for partner systems: a pack's history events, signed and POSTed to subscribed URLs.

- `listener`: a `before_flush` listener on new `Event` and `HouseholdEvent` rows
  enqueues one `webhook` outbox message per matching active subscription, in the
  transaction of the change (none if it rolls back).
- `delivery`: the outbox handler `webhook` POSTs the JSON body with
  `X-Formflow-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` and
  `X-Formflow-Timestamp`; a non-2xx answer or a timeout raises, so the outbox
  retries with its backoff; every attempt is in `webhook_deliveries`.
- `subscriptions`: the use cases (list, add, disable, remove, test) of the admin
  page and `formflow webhooks`.
- `signing`: sign and verify (what a partner does is in the README).
"""

from __future__ import annotations

from formflow.webhooks import delivery, listener  # noqa: F401  (register the handler and the listener)
