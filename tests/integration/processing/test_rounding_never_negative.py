"""Rounding never goes negative (#14 item 6): on an instrument as fine as they come (tick
1e-8, lot 1e-8, 0.1 % fees) a buy reserves its notional plus the fee, each rounded up to
the ledger's 18 places, and every partial fill releases its share. Were a reservation
rounded the other way, some fill would release more than is left (a release of -1e-18)
and abort its batch: the events would be set aside and the orders' fates lost. 20,000
random partial fills must all settle, and the ledger must reconcile to the last unit."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from apps.orders.models import Fill
from apps.processing import events as executions
from apps.processing.models import LedgerAccount, WorkingOrder
from oms.events import Event
from tests.integration.conftest import trader
from tests.integration.processing.feed import (
    DirectFeed,
    assert_reconciled,
    instrument,
    outbox_count,
    submission,
)

pytestmark = pytest.mark.django_db(transaction=True)
SYMBOL = "FINE-USDT"
UNIT = Decimal("0.00000001")  # tick and lot
TRADES = 20_000


def units(rng: random.Random, low: int, high: int) -> Decimal:
    """A random multiple of 1e-8 between low and high units."""
    return rng.randint(low, high) * UNIT


def round_of_orders(rng: random.Random, buyers: list[int], sellers: list[int]) -> list[Event]:
    """Bids resting at random prices, asks resting above them and buys that take those
    asks (at a better price than their limit), then many small sells that each take part
    of the best bid (IOC at the lowest price: whatever is not filled is cancelled)."""
    resting = [submission(rng.choice(buyers), "buy", units(rng, 10**8, 50 * 10**8),
                          units(rng, 5 * 10**7, 15 * 10**7), symbol=SYMBOL)
               for _ in range(200)]
    flow = [submission(rng.choice(sellers), "sell", units(rng, 10**6, 10**8),
                       units(rng, 2 * 10**8, 3 * 10**8), symbol=SYMBOL) for _ in range(100)]
    flow += [submission(rng.choice(buyers), "buy", units(rng, 1, 10**8),
                        units(rng, 25 * 10**7, 35 * 10**7), symbol=SYMBOL) for _ in range(100)]
    flow += [submission(rng.choice(sellers), "sell", units(rng, 1, 10**8), UNIT,
                        symbol=SYMBOL, time_in_force="IOC") for _ in range(2000)]
    rng.shuffle(flow)
    return resting + flow


def test_twenty_thousand_random_partial_fills_on_a_fine_instrument_all_settle() -> None:
    instrument(SYMBOL, tick="0.00000001", lot="0.00000001", maker_fee="0.001",
               taker_fee="0.001")
    buyers = [trader(f"buyer{n}", USDT="100000000") for n in range(4)]
    sellers = [trader(f"seller{n}", FINE="100000000") for n in range(4)]
    feed = DirectFeed()
    rng = random.Random(14)
    while Fill.objects.count() < 2 * TRADES:
        feed.process(round_of_orders(rng, buyers, sellers))
        # Nothing was set aside, nothing refused: every order met a normal fate.
        assert feed.set_aside == []
    assert outbox_count(executions.ORDER_REJECTED) == 0
    assert outbox_count(executions.ORDER_FILL) == Fill.objects.count()
    # No balance, reservation or working order's hold went below zero.
    assert not LedgerAccount.objects.filter(kind="user", available__lt=0).exists()
    assert not LedgerAccount.objects.filter(reserved__lt=0).exists()
    assert not WorkingOrder.objects.filter(reserved__lt=0).exists()
    assert_reconciled()


def test_large_holdings_to_the_last_place_are_deposited_and_reconcile() -> None:
    """Amounts of 10^13 and more at 18 places (beyond the default 28-digit context) are
    deposited exactly, and conservation sums them exactly: a sum in the default context
    would round them and report a difference that is not there."""
    trader("whale", USDT="10000000000000.000000000000000001")
    trader("dust", USDT="0.000000000000000001")
    assert LedgerAccount.objects.get(kind="external", asset="USDT").available == Decimal(
        "-10000000000000.000000000000000002")
    assert_reconciled()
