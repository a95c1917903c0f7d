"""The JSON API (/api/v1): the platform for mini-programs and government systems.

Fixed shapes (accounts, applications, events, files, notices, errors) are
marshmallow schemas in `schemas`, which also produce the OpenAPI 3.1
document (`openapi`); configurable content (the form) is served as the pack's
own JSON Schema, exactly as the application pinned it.

Authentication is by bearer tokens (`tokens`); the API sets no cookies and has
no CSRF surface. Every error has one shape (`errors`). Submit and actions take
an Idempotency-Key (`idempotency`). Access rules are those of the web: a
citizen reaches their own applications, a reviewer what lies under their
offices; anything else is 404.
"""
