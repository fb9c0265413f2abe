"""Events the risk context emits (registered as the context gains them)."""
