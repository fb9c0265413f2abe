"""The public, read-only REST API of market data under `/api/market-data/`."""
