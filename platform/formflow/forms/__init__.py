"""Forms: schema registry, formats, errors, rendering."""
