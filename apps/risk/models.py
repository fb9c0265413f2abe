"""Persistence of the risk context (filled by its issue)."""
