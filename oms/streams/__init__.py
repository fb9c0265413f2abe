"""Live streams to WebSocket clients, whatever app owns them: the numbered resume window
(`window`), the in-process fan-out that tails the broker (`hub`) and the connection that
queues, paces and resumes a client's subscriptions (`connection`). Each app declares its
streams as a `StreamSource` (the marketdata context its books and prices, orders its
private executions) and serves them from its own `ws.py`."""
