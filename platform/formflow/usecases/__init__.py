"""The use cases: one function per thing a person does, enforcing its own invariants.

Every channel (portal, service-hall window, desk, API) calls these and only
parses input and renders the result. A use case takes the `Services`, a
database session, the acting account and plain arguments; it raises a
`Refusal` (code, message, details) when it says no, and changes an
application in one transaction with its history event.
"""
