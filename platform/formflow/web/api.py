"""The JSON API blueprint (/api/v1): see formflow.api."""

from __future__ import annotations

from formflow.api.blueprint import bp, init_app

__all__ = ["bp", "init_app"]
