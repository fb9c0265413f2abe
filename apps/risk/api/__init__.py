"""REST API of the risk context: positions."""
