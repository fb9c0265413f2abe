"""Pure logic of the marketdata context: aggregated L2 books kept in sequence, candles,
and the conflating outbound queue of a live stream. No Django, no I/O, no clock: callers
pass times in, so everything here replays deterministically."""
