"""Pure-Python trading domain of the processing app (no Django, no I/O): the matching engine."""
