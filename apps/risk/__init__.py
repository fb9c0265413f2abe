"""Risk context: limits, pre-trade checks, positions and the kill switch."""
