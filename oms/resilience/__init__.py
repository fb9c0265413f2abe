"""Resilience patterns of the seed: a circuit breaker per dependency (`breakers`) and one
retry policy for operations that are safe to repeat (`retry`)."""
