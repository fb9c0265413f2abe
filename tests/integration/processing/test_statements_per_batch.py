"""SQL statements per batch do not grow with the batch (#16, D10): the processor reads
what a batch touches in a fixed number of set-based queries and writes each table once,
so a 500-order batch costs the same number of statements as a 50-order one of the same
mix (a third of the orders crossing, a ledger settlement per fill). A query per order
anywhere on the path would make the larger batch cost hundreds more."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from apps.orders.models import Fill, Order
from oms import db
from oms.events import Event
from tests.integration.conftest import trader
from tests.integration.processing.feed import DirectFeed, assert_reconciled, submission

pytestmark = pytest.mark.django_db(transaction=True)
SYMBOL = "BTC-USDT"


@dataclass
class Statements:
    sql: list[str] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.sql) + len(self.copies)


@contextmanager
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Statements]:
    """Every statement sent through Django's connection, and every `COPY` and
    `INSERT … VALUES` of appended rows (which go around Django's cursor: counted where
    `oms.db` makes them)."""
    seen = Statements()

    def through_django(execute: Callable[..., Any], sql: str, params: Any, many: bool,
                       context: dict[str, Any]) -> Any:
        seen.sql.append(sql)
        return execute(sql, params, many, context)

    copy, insert = db.copy_rows, db.insert_values

    def copy_rows(table: str, columns: Sequence[str], rows: Any) -> int:
        seen.copies.append(table)
        return copy(table, columns, rows)

    def insert_values(append: db.Append) -> None:
        seen.sql.append(f"INSERT INTO {append.table} … VALUES")
        insert(append)

    with monkeypatch.context() as patch:
        patch.setattr(db, "copy_rows", copy_rows)
        patch.setattr(db, "insert_values", insert_values)
        with connection.execute_wrapper(through_django):
            yield seen


def mixed_orders(count: int, buyers: list[int], sellers: list[int], *, level: int) -> list[Event]:
    """`count` orders, a third of them crossing: a bid rests, an ask rests above it, and a
    second ask takes the bid (one trade, one settlement)."""
    events: list[Event] = []
    for n in range(count):
        buyer, seller = buyers[n % len(buyers)], sellers[n % len(sellers)]
        bid = Decimal(49000 + level)  # below every resting ask
        if n % 3 == 0:
            events.append(submission(buyer, "buy", "0.01", bid, symbol=SYMBOL))
        elif n % 3 == 1:
            events.append(submission(seller, "sell", "0.01", Decimal(51000) + n, symbol=SYMBOL))
        else:
            events.append(submission(seller, "sell", "0.01", bid, symbol=SYMBOL))
    return events


def test_a_500_order_batch_takes_as_many_statements_as_a_50_order_batch(
    btc: None, monkeypatch: pytest.MonkeyPatch,
) -> None:
    buyers = [trader(f"buyer{n}", USDT="10000000") for n in range(5)]
    sellers = [trader(f"seller{n}", BTC="1000") for n in range(5)]
    feed = DirectFeed()
    feed.process(mixed_orders(9, buyers, sellers, level=0))  # the book exists: warm
    counts: dict[int, Statements] = {}
    for level, size in enumerate((50, 500), start=1):
        events = mixed_orders(size, buyers, sellers, level=level)
        fills_before = Fill.objects.count()
        with counting(monkeypatch) as seen:
            feed.process(events)
        counts[size] = seen
        # The batch did what it should: every order recorded, a trade per crossing order.
        crossing = size // 3
        assert Order.objects.filter(id__in=[e.payload["order_id"] for e in events]).count() == size
        assert Fill.objects.count() - fills_before == 2 * crossing
    assert feed.set_aside == []
    small, large = counts[50], counts[500]
    assert large.copies, "the batch writes with COPY"
    assert abs(large.total - small.total) <= 5, (
        f"50 orders: {len(small.sql)} statements + {len(small.copies)} COPY; "
        f"500 orders: {len(large.sql)} statements + {len(large.copies)} COPY\n"
        + "\n".join(sorted(set(large.sql) - set(small.sql))[:20]))
    assert_reconciled()
