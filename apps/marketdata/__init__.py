"""Market data context: feeds (simulator, Binance, Coinbase), the internal book and
prices, trades and candles, and the live WebSocket streams."""
