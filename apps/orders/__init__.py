"""Orders context: instruments, order entry API and the order read model."""
