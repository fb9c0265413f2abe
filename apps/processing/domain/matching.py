"""The matching engine of one instrument: price-time priority continuous matching, stop
triggering, self-trade prevention and GTD expiry, as a pure state machine.

It owns the order book and every rule about how orders interact; it does no I/O, reads no
clock (``now`` is passed in, epoch ns), generates no ids and has no global state, so the same
calls always produce the same events. Prices are integer ticks and quantities integer lots;
fees, balances and Decimal conversion are the caller's job.

Operations (each returns the list of events it caused, in the order they happened):

``submit(spec, now=)``
    Validate, then ``Accepted`` and execution. LIMIT trades against the opposite side while it
    crosses, then GTC/GTD rests (``Rested``), IOC cancels the remainder (``ioc_remainder``).
    FOK first checks that the whole quantity is fillable within its limit (taking the
    self-trade-prevention mode into account exactly); if not it is ``Cancelled`` with
    ``fok_unfillable`` and no trade. MARKET takes liquidity until filled or the book is empty,
    the rest is cancelled (``market_remainder``); its TIF only matters for FOK. Post-only
    orders that would take are ``Rejected`` (``post_only_would_take``) - nothing happened.
    STOP / STOP_LIMIT orders are held aside (``Accepted`` only) until a trade prints at or
    through the stop (buy: trade price >= stop, sell: <=); they then emit ``Triggered`` (with
    that trade price) and execute as MARKET / LIMIT with a new time priority. A stop whose
    condition already holds for ``last_trade_price`` on arrival triggers at once.
``cancel(order_id, reason=)``
    ``Cancelled`` with the caller's reason (default ``user``), for resting or pending stops.
``amend(order_id, new_price=, new_quantity=, now=)``
    Cancel-replace of a resting order; ``new_quantity`` is the new *open* quantity. Same
    price and a lower (or equal) quantity keeps time priority (``Amended(priority_kept=True)``
    and nothing else). Otherwise the order loses priority and re-enters like a new order
    (``Amended(priority_kept=False)``, then trades if it crosses, then ``Rested``); a post-only
    order that would cross is ``Rejected`` and left untouched. Pending stops cannot be
    amended (``invalid_amend``).
``expire(now)``
    ``Cancelled`` (``expired``) for every GTD order with ``expires_at <= now``. ``submit``
    and ``amend`` do this first too, so an expired order never trades.

Matching details: every trade is at the resting (maker) order's price. Self-trade prevention
applies the *incoming* order's mode when it meets a resting order of the same account:
CANCEL_RESTING cancels the resting order and keeps matching, CANCEL_INCOMING cancels the
incoming remainder, CANCEL_BOTH does both, NONE lets them trade; cancellations carry the reason
``self_trade_prevention``. Stops are checked after each order finishes matching, against the
range of prices it traded at; fired stops run one by one in arrival order, and stops fired by
them are queued behind (iterative, no recursion).

Events (see ``orders``): ``Accepted``, ``Rested``, ``Trade``, ``Cancelled``, ``Rejected``,
``Triggered``, ``Amended``. Reject reasons: ``invalid_order``, ``already_expired`` (GTD with
``expires_at <= now``), ``duplicate_order_id`` (among live orders - global uniqueness is the
caller's), ``post_only_would_take``, ``unknown_order``, ``invalid_amend``.

Complexity: add/cancel O(1) plus O(log L) over L price levels when a level appears or
disappears; each fill O(1); stops and expiries use heaps with lazy deletion, compacted
(amortised O(1) per order) so that their size stays proportional to the live orders.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from heapq import heapify, heappop, heappush

from apps.processing.domain.book import BookSide, OrderNode
from apps.processing.domain.orders import (
    CANCEL_EXPIRED,
    CANCEL_FOK_UNFILLABLE,
    CANCEL_IOC_REMAINDER,
    CANCEL_MARKET_REMAINDER,
    CANCEL_SELF_TRADE,
    CANCEL_USER,
    REJECT_ALREADY_EXPIRED,
    REJECT_DUPLICATE_ORDER_ID,
    REJECT_INVALID_AMEND,
    REJECT_INVALID_ORDER,
    REJECT_POST_ONLY_WOULD_TAKE,
    REJECT_UNKNOWN_ORDER,
    Accepted,
    Amended,
    Cancelled,
    Event,
    OpenOrder,
    OrderSpec,
    OrderType,
    Rejected,
    Rested,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Trade,
    Triggered,
)

__all__ = [
    "CANCEL_EXPIRED",
    "CANCEL_FOK_UNFILLABLE",
    "CANCEL_IOC_REMAINDER",
    "CANCEL_MARKET_REMAINDER",
    "CANCEL_SELF_TRADE",
    "CANCEL_USER",
    "REJECT_ALREADY_EXPIRED",
    "REJECT_DUPLICATE_ORDER_ID",
    "REJECT_INVALID_AMEND",
    "REJECT_INVALID_ORDER",
    "REJECT_POST_ONLY_WOULD_TAKE",
    "REJECT_UNKNOWN_ORDER",
    "Accepted",
    "Amended",
    "Cancelled",
    "DepthLevel",
    "Event",
    "MatchingEngine",
    "OpenOrder",
    "OrderSpec",
    "OrderType",
    "Reach",
    "Rejected",
    "Rested",
    "SelfTradePrevention",
    "Side",
    "TimeInForce",
    "Trade",
    "Triggered",
]

_GTC = TimeInForce.GTC
_GTD = TimeInForce.GTD
_IOC = TimeInForce.IOC
_FOK = TimeInForce.FOK
_LIMIT = OrderType.LIMIT
_MARKET = OrderType.MARKET
_STOP = OrderType.STOP
_STOP_LIMIT = OrderType.STOP_LIMIT
_STP_NONE = SelfTradePrevention.NONE
_STP_CANCEL_RESTING = SelfTradePrevention.CANCEL_RESTING
_STP_CANCEL_INCOMING = SelfTradePrevention.CANCEL_INCOMING

# Cancelled stops leave entries in the trigger heaps; rebuild once they are the majority.
_STALE_STOPS_BEFORE_COMPACTION = 64
# Orders that leave before their expiry (cancelled, filled, self-trade) leave entries in the
# expiry heap; it is rebuilt from the live orders once it outgrows twice their number, so
# its size stays proportional to the book however far away the expiries are.
_EXPIRIES_BEFORE_COMPACTION = 64

@dataclass(frozen=True, slots=True)
class Reach:
    """What a batch's requests could take from a book: at most ``buy_lots`` and
    ``sell_lots``, by the accounts ``buyers`` and ``sellers``, with the orders ``leaving``
    (cancelled or amended by the batch) possibly gone first."""

    buy_lots: int
    sell_lots: int
    buyers: frozenset[str]
    sellers: frozenset[str]
    leaving: frozenset[str]


_HeapEntry = tuple[int, int, OrderNode]
DepthLevel = tuple[int, int, int]  # (price ticks, total lots, order count)


class MatchingEngine:
    """Order book and matching rules of one instrument (see the module docstring)."""

    __slots__ = (
        "_asks",
        "_bids",
        "_buy_stops",
        "_expiries",
        "_last_trade_price",
        "_orders",
        "_sell_stops",
        "_seq",
        "_stale_stops",
        "_trade_high",
        "_trade_low",
    )

    def __init__(self, *, last_trade_price: int | None = None) -> None:
        self._bids = BookSide(is_bid=True)
        self._asks = BookSide(is_bid=False)
        # Every live order (resting, or pending stop with ``level is None``) by id.
        self._orders: dict[str, OrderNode] = {}
        self._buy_stops: list[_HeapEntry] = []  # (stop, seq, node): lowest stop fires first
        self._sell_stops: list[_HeapEntry] = []  # (-stop, seq, node): highest stop first
        self._stale_stops = 0
        self._expiries: list[_HeapEntry] = []  # (expires_at, seq, node)
        self._seq = 0
        self._last_trade_price = last_trade_price
        # Price range traded since stops were last checked.
        self._trade_high: int | None = None
        self._trade_low: int | None = None

    # ----------------------------------------------------------------------------- queries

    @property
    def last_trade_price(self) -> int | None:
        return self._last_trade_price

    def best_bid(self) -> int | None:
        return self._bids.best_price()

    def best_ask(self) -> int | None:
        return self._asks.best_price()

    def depth(self, levels: int) -> tuple[list[DepthLevel], list[DepthLevel]]:
        """Best ``levels`` levels per side as ``(price, total_lots, order_count)``, best first."""
        return self._bids.depth(levels), self._asks.depth(levels)

    def resting_orders(self) -> Iterator[OpenOrder]:
        """Orders on the book: bids then asks, each best price first and FIFO within a level.

        Submitting their ``to_spec()`` in this order to a fresh engine rebuilds the book.
        Do not call engine operations while iterating.
        """
        for side in (self._bids, self._asks):
            for level in side.levels_best_first():
                for node in level:
                    yield _snapshot(node)

    def pending_stops(self) -> list[OpenOrder]:
        """Stop orders awaiting their trigger, in arrival order."""
        pending = [node for node in self._orders.values() if node.level is None]
        pending.sort(key=lambda node: node.seq)
        return [_snapshot(node) for node in pending]

    def level_lots(self, side: Side, price: int) -> int:
        """Total open lots resting at ``price`` on ``side`` (0 when there is no level)."""
        level = (self._bids if side is Side.BUY else self._asks).levels.get(price)
        return 0 if level is None else level.total

    def open_order(self, order_id: str) -> OpenOrder | None:
        node = self._orders.get(order_id)
        return None if node is None else _snapshot(node)

    def counterparties(self, reach: Reach, *, expiring_by: int) -> set[str]:
        """The accounts of this book that a batch's takers (``reach``) could touch: the
        owners of the resting orders they could reach, best first, of the orders expiring
        by ``expiring_by``, and of the pending stops the prices they could trade at may
        trigger (a triggered stop takes in turn: its quantity extends the walk, until no
        further stop can trigger). An order a taker may pass without trading does not
        count toward the reach: the taker's own (self-trade prevention), one the batch
        cancels or amends, one about to expire. An upper bound, walked in proportion to
        the takers' quantity, not the book's."""
        buy_lots, sell_lots = reach.buy_lots, reach.sell_lots
        buyers, sellers = set(reach.buyers), set(reach.sellers)
        expiring = _due(self._expiries, expiring_by)
        accounts = {node.account for node in expiring}
        passed = set(reach.leaving) | {node.order_id for node in expiring}
        triggered: set[str] = set()
        while True:
            walked = accounts.copy()
            asks = _walk(self._asks, buy_lots, buyers, passed, walked)
            bids = _walk(self._bids, sell_lots, sellers, passed, walked)
            # The prices the batch may trade at: up the asks from the best, down the bids.
            highs = [price for price in (asks and asks[1], bids and bids[0]) if price]
            lows = [price for price in (bids and bids[1], asks and asks[0]) if price]
            due = [*(_due(self._buy_stops, max(highs)) if highs else ()),
                   *(_due(self._sell_stops, -min(lows)) if lows else ())]
            stops = [stop for stop in due
                     if stop.order_id not in triggered and self._is_pending(stop)]
            if not stops:
                return walked
            for stop in stops:
                triggered.add(stop.order_id)
                accounts.add(stop.account)
                if stop.is_buy:
                    buy_lots += stop.remaining
                    buyers.add(stop.account)
                else:
                    sell_lots += stop.remaining
                    sellers.add(stop.account)

    def _is_pending(self, stop: OrderNode) -> bool:
        """Whether a stop heap's entry is still a pending stop (not cancelled or fired)."""
        return self._orders.get(stop.order_id) is stop

    # -------------------------------------------------------------------------- operations

    def submit(self, spec: OrderSpec, *, now: int) -> list[Event]:
        events: list[Event] = []
        expiries = self._expiries
        if expiries and expiries[0][0] <= now:
            self._expire_due(now, events)
        reason = self._reject_reason(spec, now)
        if reason is not None:
            events.append(Rejected(spec.order_id, reason))
            return events
        self._seq = seq = self._seq + 1
        node = OrderNode(
            spec.order_id,
            spec.account,
            spec.side,
            spec.order_type,
            spec.tif,
            spec.price,
            spec.stop_price,
            spec.quantity,
            spec.post_only,
            spec.stp,
            spec.expires_at,
            seq,
            now,
        )
        events.append(Accepted(spec.order_id))
        if spec.expires_at is not None:
            if len(expiries) > _EXPIRIES_BEFORE_COMPACTION and len(expiries) > 2 * len(
                    self._orders):
                self._expiries = expiries = [
                    entry for entry in expiries if self._orders.get(entry[2].order_id) is entry[2]]
                heapify(expiries)
            heappush(expiries, (spec.expires_at, seq, node))
        stop_price = spec.stop_price
        if stop_price is None:
            self._execute(node, events)
            if self._trade_high is not None:
                self._run_stops(now, events)
            return events
        self._orders[spec.order_id] = node
        if node.is_buy:
            heappush(self._buy_stops, (stop_price, seq, node))
        else:
            heappush(self._sell_stops, (-stop_price, seq, node))
        last = self._last_trade_price
        if last is not None:
            # No other pending stop is satisfied by the last price, so only this one can fire.
            self._trade_high = self._trade_low = last
            self._run_stops(now, events)
        return events

    def cancel(self, order_id: str, *, reason: str = CANCEL_USER) -> list[Event]:
        node = self._orders.get(order_id)
        if node is None:
            return [Rejected(order_id, REJECT_UNKNOWN_ORDER)]
        self._remove_live(node)
        return [Cancelled(order_id, node.remaining, reason)]

    def amend(
        self,
        order_id: str,
        *,
        new_price: int | None = None,
        new_quantity: int | None = None,
        now: int,
    ) -> list[Event]:
        events: list[Event] = []
        if self._expiries and self._expiries[0][0] <= now:
            self._expire_due(now, events)
        node = self._orders.get(order_id)
        if node is None:
            events.append(Rejected(order_id, REJECT_UNKNOWN_ORDER))
            return events
        level = node.level
        if level is None or node.price is None:  # a pending stop
            events.append(Rejected(order_id, REJECT_INVALID_AMEND))
            return events
        price = node.price if new_price is None else new_price
        quantity = node.remaining if new_quantity is None else new_quantity
        if price <= 0 or quantity <= 0:
            events.append(Rejected(order_id, REJECT_INVALID_AMEND))
            return events
        if price == node.price and quantity <= node.remaining:
            level.total -= node.remaining - quantity
            node.remaining = quantity
            events.append(Amended(order_id, price, quantity, True))
            return events
        if node.post_only and self._would_take(node.is_buy, price):
            events.append(Rejected(order_id, REJECT_POST_ONLY_WOULD_TAKE))
            return events
        (self._bids if node.is_buy else self._asks).remove(node)
        del self._orders[order_id]
        self._seq += 1
        node.seq = self._seq
        node.timestamp = now
        node.price = price
        node.remaining = quantity
        events.append(Amended(order_id, price, quantity, False))
        self._execute(node, events)
        if self._trade_high is not None:
            self._run_stops(now, events)
        return events

    def expire(self, now: int) -> list[Event]:
        events: list[Event] = []
        self._expire_due(now, events)
        return events

    # ---------------------------------------------------------------------------- internals

    def _reject_reason(self, spec: OrderSpec, now: int) -> str | None:
        order_type = spec.order_type
        price = spec.price
        tif = spec.tif
        if spec.quantity <= 0:
            return REJECT_INVALID_ORDER
        if order_type is _LIMIT or order_type is _STOP_LIMIT:
            if price is None or price <= 0:
                return REJECT_INVALID_ORDER
        elif price is not None:
            return REJECT_INVALID_ORDER
        if order_type is _STOP or order_type is _STOP_LIMIT:
            if spec.stop_price is None or spec.stop_price <= 0:
                return REJECT_INVALID_ORDER
        elif spec.stop_price is not None:
            return REJECT_INVALID_ORDER
        if (tif is _GTD) is (spec.expires_at is None):
            return REJECT_INVALID_ORDER
        if spec.post_only and (order_type is not _LIMIT or tif is _IOC or tif is _FOK):
            return REJECT_INVALID_ORDER
        if spec.order_id in self._orders:
            return REJECT_DUPLICATE_ORDER_ID
        if spec.expires_at is not None and spec.expires_at <= now:
            return REJECT_ALREADY_EXPIRED
        if spec.post_only and price is not None and self._would_take(spec.side is Side.BUY, price):
            return REJECT_POST_ONLY_WOULD_TAKE
        return None

    def _would_take(self, is_buy: bool, price: int) -> bool:
        if is_buy:
            best_ask = self._asks.best_price()
            return best_ask is not None and price >= best_ask
        best_bid = self._bids.best_price()
        return best_bid is not None and price <= best_bid

    def _execute(self, node: OrderNode, events: list[Event]) -> None:
        """Run a taker (new, amended or triggered order, not in ``_orders``) to completion."""
        is_buy = node.is_buy
        price = node.price
        opposite = self._asks if is_buy else self._bids
        keys = opposite.keys
        crosses = bool(keys) and (
            price is None or (price >= -keys[-1] if is_buy else price <= keys[-1])
        )
        if node.tif is _FOK and not (crosses and self._fok_fillable(node)):
            events.append(Cancelled(node.order_id, node.remaining, CANCEL_FOK_UNFILLABLE))
            return
        if crosses:
            self._match(node, opposite, events)
        remaining = node.remaining
        if remaining == 0:
            return
        if price is None:
            events.append(Cancelled(node.order_id, remaining, CANCEL_MARKET_REMAINDER))
        elif node.tif is _GTC or node.tif is _GTD:
            (self._bids if is_buy else self._asks).append(node, price)
            self._orders[node.order_id] = node
            events.append(Rested(node.order_id, price, remaining))
        else:
            events.append(Cancelled(node.order_id, remaining, CANCEL_IOC_REMAINDER))

    def _match(self, taker: OrderNode, opposite: BookSide, events: list[Event]) -> None:
        """Trade ``taker`` against ``opposite`` (which it crosses), best level first, FIFO."""
        keys = opposite.keys
        is_buy = taker.is_buy
        limit = taker.price
        remaining = taker.remaining
        taker_id = taker.order_id
        taker_account = taker.account
        taker_side = taker.side
        stp = taker.stp
        stp_active = stp is not _STP_NONE
        levels = opposite.levels
        orders = self._orders
        append = events.append
        first_price: int | None = None
        last_price = 0
        while remaining and keys:
            key = keys[-1]
            price = -key if is_buy else key
            if limit is not None and (price > limit if is_buy else price < limit):
                break
            level = levels[price]
            maker = level.head
            while maker is not None:
                nxt = maker.next
                if stp_active and maker.account == taker_account:
                    if stp is not _STP_CANCEL_INCOMING:  # cancel resting (or both)
                        level.drop_head(maker, nxt)
                        level.total -= maker.remaining
                        del orders[maker.order_id]
                        append(Cancelled(maker.order_id, maker.remaining, CANCEL_SELF_TRADE))
                    if stp is not _STP_CANCEL_RESTING:  # cancel incoming (or both)
                        append(Cancelled(taker_id, remaining, CANCEL_SELF_TRADE))
                        remaining = 0
                        break
                    maker = nxt
                    continue
                maker_remaining = maker.remaining
                quantity = remaining if remaining < maker_remaining else maker_remaining
                maker_remaining -= quantity
                remaining -= quantity
                maker.remaining = maker_remaining
                level.total -= quantity
                if first_price is None:
                    first_price = price
                last_price = price
                if maker_remaining == 0:
                    level.drop_head(maker, nxt)
                    del orders[maker.order_id]
                append(
                    Trade(
                        maker.order_id,
                        taker_id,
                        maker.account,
                        taker_account,
                        taker_side,
                        price,
                        quantity,
                        maker_remaining,
                        remaining,
                    )
                )
                if remaining == 0:
                    break
                maker = nxt
            if level.count == 0:
                keys.pop()
                del levels[price]
        taker.remaining = remaining
        if first_price is not None:
            self._last_trade_price = last_price
            low, high = (first_price, last_price) if is_buy else (last_price, first_price)
            if self._trade_high is None or high > self._trade_high:
                self._trade_high = high
            if self._trade_low is None or low < self._trade_low:
                self._trade_low = low

    def _fok_fillable(self, taker: OrderNode) -> bool:
        """Whether matching would fill ``taker`` completely (mirrors ``_match`` exactly)."""
        need = taker.remaining
        limit = taker.price
        is_buy = taker.is_buy
        stp = taker.stp
        opposite = self._asks if is_buy else self._bids
        for level in opposite.levels_best_first():
            price = level.price
            if limit is not None and (price > limit if is_buy else price < limit):
                return False
            if stp is _STP_NONE:
                need -= level.total
                if need <= 0:
                    return True
                continue
            for maker in level:
                if maker.account == taker.account:
                    if stp is _STP_CANCEL_RESTING:
                        continue  # it would be cancelled, not traded
                    return False  # the incoming order would be cancelled here
                need -= maker.remaining
                if need <= 0:
                    return True
        return False

    def _run_stops(self, now: int, events: list[Event]) -> None:
        """Fire stops reached by recent trades, and those their own trades reach, in turn."""
        queue: deque[tuple[OrderNode, int]] = deque()
        self._collect_triggered(queue)
        while queue:
            node, trade_price = queue.popleft()
            events.append(Triggered(node.order_id, trade_price))
            self._seq += 1
            node.seq = self._seq
            node.timestamp = now
            node.order_type = _MARKET if node.order_type is _STOP else _LIMIT
            node.stop_price = None
            self._execute(node, events)
            self._collect_triggered(queue)

    def _collect_triggered(self, queue: deque[tuple[OrderNode, int]]) -> None:
        """Queue the pending stops reached by the prices traded since the last check, each
        with the price that reached it (the range's high for buys, low for sells)."""
        high, low = self._trade_high, self._trade_low
        if high is None or low is None:
            return
        self._trade_high = self._trade_low = None
        orders = self._orders
        fired: list[tuple[OrderNode, int]] = []
        buy_stops, sell_stops = self._buy_stops, self._sell_stops
        while buy_stops and buy_stops[0][0] <= high:
            node = heappop(buy_stops)[2]
            if orders.get(node.order_id) is node:
                del orders[node.order_id]
                fired.append((node, high))
            else:
                self._stale_stops -= 1
        while sell_stops and -sell_stops[0][0] >= low:
            node = heappop(sell_stops)[2]
            if orders.get(node.order_id) is node:
                del orders[node.order_id]
                fired.append((node, low))
            else:
                self._stale_stops -= 1
        fired.sort(key=lambda entry: entry[0].seq)
        queue.extend(fired)

    def _expire_due(self, now: int, events: list[Event]) -> None:
        expiries = self._expiries
        orders = self._orders
        while expiries and expiries[0][0] <= now:
            node = heappop(expiries)[2]
            if orders.get(node.order_id) is node:
                self._remove_live(node)
                events.append(Cancelled(node.order_id, node.remaining, CANCEL_EXPIRED))

    def _remove_live(self, node: OrderNode) -> None:
        """Take a live order out of the book or out of the pending stops."""
        del self._orders[node.order_id]
        if node.level is not None:
            (self._bids if node.is_buy else self._asks).remove(node)
            return
        self._stale_stops += 1
        heap_size = len(self._buy_stops) + len(self._sell_stops)
        if self._stale_stops > _STALE_STOPS_BEFORE_COMPACTION and 2 * self._stale_stops > heap_size:
            orders = self._orders
            self._buy_stops = [e for e in self._buy_stops if orders.get(e[2].order_id) is e[2]]
            self._sell_stops = [e for e in self._sell_stops if orders.get(e[2].order_id) is e[2]]
            heapify(self._buy_stops)
            heapify(self._sell_stops)
            self._stale_stops = 0


# A price beyond any tick: a side walked to its end may trade at any price past it.
_UNBOUNDED = 1 << 62


def _walk(side: BookSide, lots: int, takers: set[str], passed: set[str],
          accounts: set[str]) -> tuple[int, int] | None:
    """Add to ``accounts`` the owners of ``side``'s orders, best first, until ``lots`` of
    orders that count are passed (see ``MatchingEngine.counterparties``). Returns the
    best and the last price walked, the last without bound (``_UNBOUNDED``, negative on
    the bids) when the side ran out first, as the takers may then trade with orders the
    batch itself rests beyond it; None when there is nothing to take."""
    if lots <= 0:
        return None
    edge = -_UNBOUNDED if side.is_bid else _UNBOUNDED
    first = None
    for level in side.levels_best_first():
        first = level.price if first is None else first
        for node in level:
            accounts.add(node.account)
            if node.account not in takers and node.order_id not in passed:
                lots -= node.remaining
                if lots <= 0:
                    return first, level.price
    return (-edge if first is None else first), edge


def _due(heap: list[_HeapEntry], bound: int) -> list[OrderNode]:
    """The nodes of ``heap`` whose key is at most ``bound``: the heap is walked only where
    its entries are due (a parent never sorts after its children). Stale entries come
    too; the caller looks its nodes up."""
    due: list[OrderNode] = []
    stack = [0]
    while stack:
        index = stack.pop()
        if index < len(heap) and heap[index][0] <= bound:
            due.append(heap[index][2])
            stack += (2 * index + 1, 2 * index + 2)
    return due


def _snapshot(node: OrderNode) -> OpenOrder:
    return OpenOrder(
        order_id=node.order_id,
        account=node.account,
        side=node.side,
        order_type=node.order_type,
        tif=node.tif,
        price=node.price,
        stop_price=node.stop_price,
        remaining=node.remaining,
        post_only=node.post_only,
        stp=node.stp,
        expires_at=node.expires_at,
        sequence=node.seq,
        timestamp=node.timestamp,
    )
