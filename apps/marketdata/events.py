"""Events the marketdata context emits (registered as the context gains them)."""
