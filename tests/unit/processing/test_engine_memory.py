"""The matching engine's memory stays proportional to its live orders (issue 14, item 8):
GTD orders cancelled (or filled) long before their expiry used to stay in the expiry heap
until that expiry, so place-and-cancel with far expiries grew it without bound."""

from __future__ import annotations

from apps.processing.domain.matching import (
    Cancelled,
    MatchingEngine,
    OrderSpec,
    OrderType,
    Side,
    TimeInForce,
)

FAR = 10**30  # epoch ns, centuries away
CYCLES = 20_000


def test_place_and_cancel_of_far_gtd_orders_leaves_the_engine_flat() -> None:
    engine = MatchingEngine()
    # A few orders that stay, so the book is not trivially empty.
    for n in range(10):
        engine.submit(OrderSpec(f"stay-{n}", "carol", Side.BUY, OrderType.LIMIT, 1,
                                price=50 + n, tif=TimeInForce.GTD, expires_at=FAR), now=0)
    sizes = []
    for n in range(CYCLES):
        order_id = f"o-{n}"
        side = Side.SELL if n % 2 else Side.BUY
        engine.submit(OrderSpec(order_id, "alice", side, OrderType.LIMIT, 3,
                                price=200 + n % 7 if side is Side.SELL else 100 - n % 7,
                                tif=TimeInForce.GTD, expires_at=FAR + n), now=n)
        [cancelled] = engine.cancel(order_id)
        assert isinstance(cancelled, Cancelled)
        if n % 1000 == 999:
            # The structures themselves, not the process's RSS (which the allocator blurs).
            sizes.append((len(engine._expiries), len(engine._orders)))
    assert all(orders == 10 for _, orders in sizes)
    assert max(heap for heap, _ in sizes) <= 2 * 10 + 64 + 1
    assert [order.order_id for order in engine.resting_orders()] == [
        f"stay-{n}" for n in reversed(range(10))]
    # The survivors still expire when their time comes.
    expired = engine.expire(FAR)
    assert sorted(event.order_id for event in expired if isinstance(event, Cancelled)) == sorted(
        f"stay-{n}" for n in range(10))
