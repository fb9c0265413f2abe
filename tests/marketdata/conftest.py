"""Market data fixtures: clean Redis, the demo instruments, and builders of the events the
processor publishes on `prices` and `executions`."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import redis as redis_lib
from django.conf import settings

from apps.marketdata.ownership import Claim, SymbolOwnership
from apps.orders import services as order_services
from apps.orders.selectors import forget_instrument_rules
from apps.processing import events as executions
from oms.events import Event, new_event
from oms.kafka.producer import EventProducer
from oms.kafka.topics import EXECUTIONS, PRICES

SYMBOL = "BTC-USDT"


@pytest.fixture(autouse=True)
def clean_redis(redis_client: redis_lib.Redis) -> Iterator[None]:
    redis_client.flushdb()
    forget_instrument_rules()
    yield
    forget_instrument_rules()


@pytest.fixture
def instruments(transactional_db: None) -> None:
    for symbol, tick, lot in [("BTC-USDT", "0.01", "0.00001"), ("ETH-USDT", "0.01", "0.0001")]:
        order_services.upsert_instrument(
            symbol=symbol, base_asset=symbol.split("-")[0], quote_asset="USDT",
            tick_size=Decimal(tick), lot_size=Decimal(lot), min_quantity=Decimal(lot),
            max_quantity=Decimal("1000"), min_notional=Decimal("10"),
            maker_fee_rate=Decimal("0.001"), taker_fee_rate=Decimal("0.001"))


def sole_claims(symbols: list[str]) -> dict[str, Claim]:
    """Claims of a single replica that owns every symbol (a one-partition `prices`), as
    the role takes them before it writes the Redis copies."""
    ownership = SymbolOwnership(replica="test")
    ownership.assign([0], partition_count=1)
    return ownership.confirm(symbols)


def book_event(kind: str, sequence: int, bids: list[list[str]], asks: list[list[str]],
               symbol: str = SYMBOL) -> Event:
    event_type = executions.BOOK_SNAPSHOT if kind == "snapshot" else executions.BOOK_DELTA
    return new_event(event_type, {"symbol": symbol, "sequence": sequence, "bids": bids,
                                  "asks": asks})


def trade_event(price: str, quantity: str, *, at: datetime | None = None,
                trade_id: str | None = None, symbol: str = SYMBOL) -> Event:
    return new_event(executions.TRADE, {
        "symbol": symbol, "trade_id": trade_id or str(uuid.uuid4()), "price": price,
        "quantity": quantity, "taker_side": "buy"}, occurred_at=at or datetime.now(UTC))


def fill_event(user_id: int, symbol: str = SYMBOL) -> Event:
    payload: dict[str, Any] = {
        "order_id": str(uuid.uuid4()), "user_id": user_id, "symbol": symbol,
        "fill_id": str(uuid.uuid4()), "trade_id": str(uuid.uuid4()), "side": "buy",
        "price": "60000", "quantity": "0.01", "fee": "0.6", "fee_asset": "USDT",
        "liquidity": "taker", "filled_quantity": "0.01", "remaining_quantity": "0",
        "average_fill_price": "60000", "status": "FILLED",
        "counterparty_order_id": str(uuid.uuid4())}
    return new_event(executions.ORDER_FILL, payload)


def publish(events: Iterable[Event]) -> None:
    """Put events on the broker as the processor and the marketdata role do (a user's
    events on `executions`, market data on `prices`, keyed by symbol) and wait for the
    acknowledgements: every ws process's hub reads them from there."""
    producer = _producer()
    failures: list[Any] = []
    for event in events:
        topic = EXECUTIONS if "user_id" in event.payload else PRICES
        producer.send(topic, key=str(event.payload["symbol"]), event=event,
                      on_delivery=lambda error, _message: failures.append(error)
                      if error is not None else None)
    assert producer.flush(10) == 0
    assert not failures


@functools.cache
def _producer() -> EventProducer:
    return EventProducer(settings.KAFKA_BOOTSTRAP_SERVERS)
