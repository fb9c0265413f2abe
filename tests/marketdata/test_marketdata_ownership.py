"""Symbol ownership between marketdata replicas against real Redis: a symbol is owned by
the replica assigned its `prices` partition, a newer claim fences the older one out of
the cache, and a fenced-out replica does not take the symbol back until the group assigns
it again."""

from __future__ import annotations

import pytest

from apps.marketdata import services
from apps.marketdata.ownership import SymbolOwnership
from oms.kafka.topics import partition_for_key

pytestmark = pytest.mark.services

PARTITIONS = 3
SYMBOL = "BTC-USDT"


def replica(name: str) -> SymbolOwnership:
    ownership = SymbolOwnership(replica=name)
    ownership.assign([partition_for_key(SYMBOL, PARTITIONS)], partition_count=PARTITIONS)
    return ownership


def test_only_the_symbols_of_assigned_partitions_are_claimed() -> None:
    ownership = SymbolOwnership(replica="a")
    others = [p for p in range(PARTITIONS) if p != partition_for_key(SYMBOL, PARTITIONS)]
    ownership.assign(others, partition_count=PARTITIONS)
    assert SYMBOL not in ownership.confirm([SYMBOL])
    ownership.assign([partition_for_key(SYMBOL, PARTITIONS)], partition_count=PARTITIONS)
    assert ownership.confirm([SYMBOL])[SYMBOL].replica == "a"
    ownership.revoke([partition_for_key(SYMBOL, PARTITIONS)])
    assert ownership.confirm([SYMBOL]) == {}


def test_a_newer_claim_fences_the_older_until_the_group_assigns_it_again() -> None:
    old, new = replica("old"), replica("new")
    stale = old.confirm([SYMBOL])
    fresh = new.confirm([SYMBOL])
    assert fresh[SYMBOL].epoch > stale[SYMBOL].epoch
    price = {"symbol": SYMBOL, "reference_price": "1"}
    assert services.cache_market(books=[], prices=[price], claims=stale) == {SYMBOL}
    assert services.cache_market(books=[], prices=[price], claims=fresh) == set()
    assert old.confirm([SYMBOL]) == {}  # superseded: not taken back by itself
    assert not old.owns(SYMBOL)
    assert new.confirm([SYMBOL]) == fresh
    old.assign([partition_for_key(SYMBOL, PARTITIONS)], partition_count=PARTITIONS)
    assert old.confirm([SYMBOL])[SYMBOL].epoch > fresh[SYMBOL].epoch
    assert new.confirm([SYMBOL]) == {}
