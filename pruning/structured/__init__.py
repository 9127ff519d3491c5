"""Structured pruning: whole hidden units (neurons / channels) scored, selected and removed."""
