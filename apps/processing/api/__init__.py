"""REST API of the processing context: balances and operator deposits and withdrawals."""
