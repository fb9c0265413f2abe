"""Pure pre-trade risk rules."""
