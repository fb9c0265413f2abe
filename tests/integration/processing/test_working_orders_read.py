"""`selectors.working_orders_read`, which every processor batch sends for its users: the
working orders of the symbols other processors hold. It must cost what the batch's users
have, not what the whole table holds: with thousands of working orders of other users
it reads through the `(user_id, symbol)` index, with a market maker's thousands in the
books this processor holds it does not read them, and it still sums what it should."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import connection

from apps.processing import selectors
from apps.processing.models import WorkingOrder
from apps.risk.services import WorkingOrders
from oms.terms import Side

pytestmark = pytest.mark.django_db

SYMBOLS = ("BTC-USDT", "ETH-USDT", "SOL-USDT")


def working(user_id: int, symbol: str, side: Side, *, quantity: str, filled: str = "0",
            price: str | None = "100") -> WorkingOrder:
    return WorkingOrder(
        order_id=uuid.uuid4(), symbol=symbol, user_id=user_id, side=side, engine_type="LIMIT",
        time_in_force="GTC", price=None if price is None else Decimal(price),
        quantity=Decimal(quantity), filled_quantity=Decimal(filled), status="ACCEPTED",
        self_trade_prevention="cancel_newest", priority=1, reserve_asset="USDT")


@pytest.fixture
def crowded_table() -> None:
    """4,500 working orders of 500 other users, then four of the two users the tests ask
    about."""
    WorkingOrder.objects.bulk_create(
        working(1000 + n % 500, SYMBOLS[n % 3], Side.BUY if n % 2 else Side.SELL, quantity="1")
        for n in range(4500))
    WorkingOrder.objects.bulk_create([
        working(7, "ETH-USDT", Side.BUY, quantity="2", filled="0.5", price="10"),
        working(7, "ETH-USDT", Side.BUY, quantity="1", price="12"),
        working(7, "BTC-USDT", Side.SELL, quantity="3"),  # a book held here: left out
        working(8, "SOL-USDT", Side.SELL, quantity="4", price=None),  # a stop: no notional
    ])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE processing_workingorder")


def test_it_reads_only_the_users_rows(crowded_table: None) -> None:
    read = selectors.working_orders_read(user_ids=[7, 8], excluding=["BTC-USDT"])
    ((sql, params),) = read.statements
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "working_user_symbol" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_it_sums_per_user_symbol_and_side(crowded_table: None) -> None:
    assert selectors.working_orders_of(user_ids=[7, 8], excluding=["BTC-USDT"]) == {
        7: {"ETH-USDT": WorkingOrders(orders=2, buy_quantity=Decimal("2.5"),
                                      buy_notional=Decimal("27"))},
        8: {"SOL-USDT": WorkingOrders(orders=1, sell_quantity=Decimal("4"))},
    }


def test_it_skips_the_orders_of_the_symbols_held_here(crowded_table: None) -> None:
    """A market maker's 3,000 orders in the book held here are not read (the old form
    of the query read each of them to drop it); its orders elsewhere are summed."""
    WorkingOrder.objects.bulk_create(
        working(9, "BTC-USDT", Side.BUY if n % 2 else Side.SELL, quantity="1")
        for n in range(3000))
    WorkingOrder.objects.bulk_create([working(9, "SOL-USDT", Side.BUY, quantity="5")])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE processing_workingorder")
    before = _entries_read()
    working_orders = selectors.working_orders_of(user_ids=[9], excluding=["BTC-USDT"])
    assert _entries_read() - before < 50
    assert working_orders == {9: {"SOL-USDT": WorkingOrders(
        orders=1, buy_quantity=Decimal("5"), buy_notional=Decimal("500"))}}


def _entries_read() -> int:
    """Rows of the working orders this transaction has read so far, by scans of the
    table and through its indexes."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) "
                       "FROM pg_stat_xact_user_tables WHERE relname = 'processing_workingorder'")
        (read,) = cursor.fetchone()
    return int(read)
