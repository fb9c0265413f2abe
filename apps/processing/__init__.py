"""Processing context: the order processor, matching, ledger and settlement."""
