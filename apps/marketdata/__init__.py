"""Market data context: feeds, books, prices and live streams."""
