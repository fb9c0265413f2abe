"""Which symbols this `marketdata` replica owns, and the fence on everything it writes for
them, so that with several replicas each symbol's feed, `price.tick` events and Redis
copies have exactly one writer.

Ownership follows the consumer group of `prices` (`market-data-group`) that the role joins
anyway: a symbol belongs to the member assigned the partition its key hashes to. We chose
this over Redis leases because the internal book of a symbol (the processor's
`book.snapshot` and `book.delta`, keyed by symbol) and its trades arrive only on that
partition, so the member that owns it is the only one holding what the symbol's ticks and
cached book are made of; a lease could only agree with the group or be wrong. The group
moves a partition at once when a member leaves cleanly, and after `session.timeout.ms`
(6 s) when it dies. The group rebalances cooperatively (`cooperative-sticky`), so a member
joining or leaving moves only the partitions that change hands: the others keep writing
through the rebalance. A replica assigned no partition is a warm standby.

The group's decision reaches a paused member (a long pause, a frozen container, SIGSTOP)
only at its next poll, and it could write before that. So a claim also takes a fencing
token: a new epoch per symbol (`INCR marketdata:epoch:{symbol}`) before the first write.
Every cache write is a script that writes only while that epoch is still the current one
(`services.cache_market`), ticks are published only after the same check and carry the
replica and epoch in their headers (`md_replica`, `md_epoch`), and a replica that finds
its epoch superseded drops the symbol (stops its feed) and does not take it back until
the group assigns it again. While Redis cannot be reached no replica can prove it owns a
symbol, so none writes (the role reports itself not ready meanwhile). The broker itself
cannot check the epoch: a tick already handed to the producer when its replica froze may
still arrive after the takeover, under its older `md_epoch`, by which a reader can drop it."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from apps.marketdata.cache import epoch_key
from oms.kafka.topics import partition_for_key
from oms.redis import redis_client

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Claim:
    """This replica writes `symbol` under `epoch` (its fencing token)."""

    symbol: str
    replica: str
    epoch: int


def replica_id() -> str:
    """This process among the replicas: host (the pod's name) and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


class SymbolOwnership:
    def __init__(self, *, replica: str) -> None:
        self.replica = replica
        self._partitions: frozenset[int] = frozenset()
        self._partition_count = 0
        self._epochs: dict[str, int] = {}
        self._superseded: set[str] = set()

    def assign(self, partitions: Iterable[int], *, partition_count: int) -> None:
        """The group added these partitions of `prices` (of `partition_count`); the
        symbols they hold may be taken again even if they were superseded before."""
        added = frozenset(partitions)
        self._partitions |= added
        self._partition_count = partition_count
        self._superseded = {symbol for symbol in self._superseded
                            if partition_for_key(symbol, partition_count) not in added}
        logger.info("%s: assigned partitions %s of prices, now owns %s", self.replica,
                    sorted(added), sorted(self._partitions))

    def revoke(self, partitions: Iterable[int]) -> None:
        """The group took these partitions back (or they were lost): write none of their
        symbols until they are assigned again."""
        self._partitions -= frozenset(partitions)
        released = sorted(symbol for symbol in self._epochs if not self._in_partitions(symbol))
        for symbol in released:
            del self._epochs[symbol]
        if released:
            logger.info("%s: released %s", self.replica, ", ".join(released))

    def _in_partitions(self, symbol: str) -> bool:
        return bool(self._partition_count) and (
            partition_for_key(symbol, self._partition_count) in self._partitions)

    def owns(self, symbol: str) -> bool:
        """The group gave this replica the symbol's partition, and no newer owner fenced
        it out since."""
        return self._in_partitions(symbol) and symbol not in self._superseded

    def confirm(self, symbols: Iterable[str]) -> dict[str, Claim]:
        """Take an epoch for each owned symbol that has none yet, then check that every
        epoch held is still current; return the claims that are. A superseded symbol is
        dropped until the next assignment. Two Redis round trips whatever the count."""
        wanted = sorted({symbol for symbol in symbols if self.owns(symbol)})
        client = redis_client()
        new = [symbol for symbol in wanted if symbol not in self._epochs]
        if new:
            pipe = client.pipeline(transaction=False)
            for symbol in new:
                pipe.incr(epoch_key(symbol))
            for symbol, epoch in zip(new, pipe.execute(), strict=True):
                self._epochs[symbol] = int(epoch)
            logger.info("%s: now writes %s", self.replica,
                        ", ".join(f"{symbol} (epoch {self._epochs[symbol]})" for symbol in new))
        if not wanted:
            return {}
        current = client.mget([epoch_key(symbol) for symbol in wanted])
        claims: dict[str, Claim] = {}
        for symbol, value in zip(wanted, current, strict=True):
            if value is not None and int(value) == self._epochs[symbol]:
                claims[symbol] = Claim(symbol, self.replica, self._epochs[symbol])
            else:
                self.supersede(symbol)
        return claims

    def supersede(self, symbol: str) -> None:
        """A newer owner took the symbol: stop writing it until the group assigns it again."""
        if self._epochs.pop(symbol, None) is not None:
            logger.warning("%s: %s was taken over by another replica; no longer writing it",
                           self.replica, symbol)
        self._superseded.add(symbol)
