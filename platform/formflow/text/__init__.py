"""What a person reads: the message catalogue, the value formatter, refusals (errors with a code)."""
