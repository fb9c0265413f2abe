"""A pipelined batch reads and locks the accounts of the book it trades in only as far as
its takers can reach (D10): an account resting far from the touch is not read, and should
the flow reach an account it did not read all the same, the batch is applied again on
every account of its books and ends exactly as a serial processor would."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from apps.orders.events import ORDER_AMEND_REQUESTED
from apps.orders.models import Order
from apps.processing import selectors
from apps.processing.batch_ledger import BatchLedger
from apps.processing.domain.matching import MatchingEngine
from oms.db import Read
from oms.events import new_event
from tests.integration.conftest import trader
from tests.integration.processing.feed import DirectFeed, assert_reconciled, submission

pytestmark = pytest.mark.django_db(transaction=True)
SYMBOL = "BTC-USDT"
PRICE, LOT = Decimal(50000), Decimal("0.01")


@pytest.fixture
def feed(btc: None) -> Iterator[DirectFeed]:
    feed = DirectFeed(pipelined=True)
    yield feed
    feed.processor.close()


@pytest.fixture
def read_users(monkeypatch: pytest.MonkeyPatch) -> list[set[int]]:
    """The accounts each batch read, in order."""
    reads: list[set[int]] = []
    real = BatchLedger.reading.__func__  # type: ignore[attr-defined]

    def reading(cls: type[BatchLedger], user_ids: Iterable[int], *,
                lock: bool) -> Read[BatchLedger]:
        users = set(user_ids)
        reads.append(users)
        return real(cls, users, lock=lock)

    monkeypatch.setattr(BatchLedger, "reading", classmethod(reading))
    return reads


def settled_balances(*users: int) -> list[dict[str, Decimal]]:
    return [{b.asset: b.available for b in selectors.balances_of(user_id=user)}
            for user in users]


def test_an_account_resting_beyond_the_takers_reach_is_not_read(
        feed: DirectFeed, read_users: list[set[int]]) -> None:
    seller, far, buyer = (trader("seller", BTC="10"), trader("far", BTC="10"),
                          trader("buyer", USDT="1000000"))
    feed.process([submission(seller, "sell", LOT, PRICE, symbol=SYMBOL),
                  submission(far, "sell", LOT, PRICE * 2, symbol=SYMBOL)])
    feed.process([submission(buyer, "buy", LOT, PRICE, symbol=SYMBOL)])
    feed.processor.catch_up()
    assert {seller, buyer, far} & read_users[-1] == {seller, buyer}
    assert Order.objects.filter(user_id__in=[seller, buyer], status="SETTLED").count() == 2
    assert_reconciled()


def test_an_order_amended_in_the_batch_that_submits_it_reaches_as_far_as_its_new_terms(
        feed: DirectFeed, read_users: list[set[int]],
        caplog: pytest.LogCaptureFixture) -> None:
    """A sell submitted far above the touch and amended, in the same batch, to cross a
    bid two levels deep: the batch reads the bids' owners up to the amended quantity."""
    first, second, seller = (trader("first", USDT="1000000"), trader("second", USDT="1000000"),
                             trader("seller", BTC="10"))
    feed.process([submission(first, "buy", LOT, PRICE, symbol=SYMBOL),
                  submission(second, "buy", LOT, PRICE - 1, symbol=SYMBOL)])
    sell = submission(seller, "sell", LOT, PRICE * 2, symbol=SYMBOL)
    amend = new_event(ORDER_AMEND_REQUESTED, {
        "order_id": sell.payload["order_id"], "user_id": seller, "symbol": SYMBOL,
        "requested_by": seller, "price": str(PRICE - 1), "quantity": str(2 * LOT)})
    with caplog.at_level(logging.INFO, logger="apps.processing.processor"):
        feed.process([sell, amend])
        feed.processor.catch_up()
    assert "applied again" not in caplog.text
    assert {first, second} <= read_users[-1]
    assert set(Order.objects.values_list("status", flat=True)) == {"SETTLED"}
    assert_reconciled()


def test_a_stop_the_batch_triggers_is_read_and_one_it_cannot_is_not(
        feed: DirectFeed, read_users: list[set[int]],
        caplog: pytest.LogCaptureFixture) -> None:
    """A buy fills at the touch, which triggers another account's stop; the stop's market
    buy takes the next level. A stop far above is not read."""
    seller, stopper, far, buyer = (trader("seller", BTC="10"), trader("stopper", USDT="1e6"),
                                   trader("far", USDT="1e6"), trader("buyer", USDT="1e6"))
    feed.process([submission(seller, "sell", LOT, PRICE, symbol=SYMBOL),
                  submission(seller, "sell", LOT, PRICE + 1, symbol=SYMBOL)])
    feed.process([submission(stopper, "buy", LOT, None, symbol=SYMBOL, order_type="stop",
                             time_in_force="IOC", stop_price=PRICE),
                  submission(far, "buy", LOT, None, symbol=SYMBOL, order_type="stop",
                             time_in_force="IOC", stop_price=PRICE * 2)])
    with caplog.at_level(logging.INFO, logger="apps.processing.processor"):
        feed.process([submission(buyer, "buy", LOT, PRICE, symbol=SYMBOL)])
        feed.processor.catch_up()
    assert "applied again" not in caplog.text
    assert {seller, stopper, far, buyer} & read_users[-1] == {seller, stopper, buyer}
    assert Order.objects.filter(user_id__in=[seller, stopper, buyer],
                                status="SETTLED").count() == 4
    assert_reconciled()


def test_a_batch_that_reaches_further_than_it_read_is_applied_again_on_every_account(
        feed: DirectFeed, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """The bound is made to miss (it names nobody): the trade reaches the seller's
    accounts, which the batch did not read; it is applied again on every account."""
    seller, buyer = trader("seller", BTC="10"), trader("buyer", USDT="1000000")
    feed.process([submission(seller, "sell", LOT, PRICE, symbol=SYMBOL)])

    def nobody(self: MatchingEngine, *args: Any, **kwargs: Any) -> set[str]:
        return set()

    monkeypatch.setattr(MatchingEngine, "counterparties", nobody)
    with caplog.at_level(logging.INFO, logger="apps.processing.processor"):
        feed.process([submission(buyer, "buy", LOT, PRICE, symbol=SYMBOL)])
        feed.processor.catch_up()
    assert "applied again on every account of its books" in caplog.text
    notional = PRICE * LOT
    assert settled_balances(seller, buyer) == [
        {"BTC": Decimal(10) - LOT, "USDT": notional - notional * Decimal("0.001")},
        {"BTC": LOT, "USDT": Decimal(1000000) - notional * Decimal("1.002")}]
    assert set(Order.objects.values_list("status", flat=True)) == {"SETTLED"}
    assert_reconciled()
