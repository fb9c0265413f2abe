"""Public writes of the marketdata context (filled by its issue)."""
