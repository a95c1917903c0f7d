"""Workflow: configuration → immutable spec; actions applied to applications."""
