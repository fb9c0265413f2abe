"""Market data feeds behind one interface (`feeds.base.Feed`): the deterministic simulator
(the default) and the Binance and Coinbase public WebSocket adapters. Parsing, sequencing
and book upkeep are pure; only `feeds.client` touches the network."""
