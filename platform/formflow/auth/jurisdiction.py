"""Jurisdiction: "under this office" as an indexed range on materialized paths."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_


def path_upper_bound(path: str) -> str:
    """The smallest string greater than every string starting with `path` (ends in '/')."""
    return path[:-1] + chr(ord(path[-1]) + 1)


def under(column, path: str) -> ColumnElement[bool]:
    """`column` lies in the subtree of `path`: one B-tree range scan, no LIKE."""
    return and_(column >= path, column < path_upper_bound(path))
