"""Public reads of the marketdata context (filled by its issue)."""
