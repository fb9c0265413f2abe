"""Persistence of the marketdata context (filled by its issue)."""
