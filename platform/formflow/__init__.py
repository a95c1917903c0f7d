"""formflow: a low-code form and approval platform driven by JSON Schema."""
