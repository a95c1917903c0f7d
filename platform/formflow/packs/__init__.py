"""Locality packs: find, read, validate and cross-check configuration files."""

from formflow.packs.loader import Matter, Pack, PackSet, load_packs
from formflow.packs.problems import Problem

__all__ = ["Matter", "Pack", "PackSet", "Problem", "load_packs"]
