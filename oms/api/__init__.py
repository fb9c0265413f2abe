"""What every REST endpoint shares: the structured error body."""
