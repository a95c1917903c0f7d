"""personal."""
