"""Pure rules of order entry: what a well-formed order is for a given instrument."""
