"""Risk what-if over history (`manage.py replay --risk-config FILE`): the recorded order
flow was replayed into a scratch database under proposed limits; this compares each order's
fate there with the live one and says which orders the proposal would have rejected (and
which it would have let through), with the check's code and message.

What the proposal changes cascades, as it would have live: an order it rejects never
trades, so later orders meet other books, positions and balances. Checks against the
feeds' reference prices (price band, notionals of market orders) see the prices the feeds
give now, as any replay does; an order compares only if both databases hold it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import psycopg

from apps.processing.replay import connect_to
from oms.money import format_amount
from oms.terms import OrderStatus

REJECTED = OrderStatus.REJECTED

_ORDERS = """
    SELECT o.id::text, o.client_order_id, u.username, o.user_id, o.symbol, o.side,
           o.quantity, o.price, o.status, o.reason_code
    FROM orders_order o JOIN auth_user u ON u.id = o.user_id
    ORDER BY o.created_at, o.id"""
# Why the replay refused each submission: its `order.rejected` in the scratch outbox.
_REJECTIONS = """
    SELECT e.body -> 'payload' ->> 'order_id', e.body -> 'payload' ->> 'message'
    FROM (SELECT convert_from(body, 'UTF8')::jsonb AS body
          FROM processing_outboxevent) e
    WHERE e.body ->> 'type' = 'order.rejected'
      AND e.body -> 'payload' ->> 'request' = 'submit'"""


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    """One order the live run and the proposal decided differently."""

    order_id: str
    client_order_id: str
    user: str
    user_id: int
    symbol: str
    side: str
    quantity: str
    price: str | None
    live_status: str
    live_reason: str
    proposed_status: str
    proposed_reason: str  # the check's code when the proposal rejects it
    proposed_message: str

    def line(self) -> str:
        price = f" @ {self.price}" if self.price is not None else ""
        live = self.live_status + (f" ({self.live_reason})" if self.live_reason else "")
        proposed = (f"{self.proposed_reason}: {self.proposed_message}"
                    if self.proposed_status == REJECTED else self.proposed_status)
        return (f"  {self.order_id}  client {self.client_order_id}  user {self.user}  "
                f"{self.symbol} {self.side} {self.quantity}{price}  live {live}  "
                f"proposed {proposed}")


@dataclass(frozen=True, slots=True)
class WhatIfReport:
    compared: int  # orders both runs hold
    not_replayed: int  # live orders the topic no longer holds (retention)
    rejected_live: int
    rejected_proposed: int
    newly_rejected: list[OrderOutcome]  # accepted live, rejected by the proposal
    newly_accepted: list[OrderOutcome]  # rejected live, accepted under the proposal

    def lines(self) -> list[str]:
        lines = [f"risk what-if: {self.compared} orders replayed; rejected live "
                 f"{self.rejected_live}, under the proposed limits {self.rejected_proposed}"]
        if self.not_replayed:
            lines.append(f"{self.not_replayed} live orders are no longer on the topic "
                         "(not compared)")
        for title, outcomes in (("accepted live, rejected by the proposal",
                                 self.newly_rejected),
                                ("rejected live, accepted under the proposal",
                                 self.newly_accepted)):
            lines.append(f"{len(outcomes)} orders {title}" + (":" if outcomes else ""))
            lines += [outcome.line() for outcome in outcomes]
        return lines

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else format_amount(value)


def _orders(conn: psycopg.Connection[tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    return {row[0]: row for row in conn.execute(_ORDERS).fetchall()}


def compare_decisions(live_url: str, replay_url: str) -> WhatIfReport:
    """Each order's fate live and in the replay under the proposal (see the module)."""
    with connect_to(live_url) as live, connect_to(replay_url) as replayed:
        live_orders, proposed_orders = _orders(live), _orders(replayed)
        messages = dict(replayed.execute(_REJECTIONS).fetchall())
    compared = [order_id for order_id in live_orders if order_id in proposed_orders]
    newly_rejected, newly_accepted = [], []
    for order_id in compared:
        (_, client_order_id, user, user_id, symbol, side, quantity, price, live_status,
         live_reason) = live_orders[order_id]
        proposed_status, proposed_reason = proposed_orders[order_id][8:10]
        if (live_status == REJECTED) == (proposed_status == REJECTED):
            continue
        outcome = OrderOutcome(
            order_id=order_id, client_order_id=client_order_id, user=user, user_id=user_id,
            symbol=symbol, side=side, quantity=format_amount(quantity),
            price=_amount(price), live_status=live_status, live_reason=live_reason,
            proposed_status=proposed_status, proposed_reason=proposed_reason,
            proposed_message=messages.get(order_id) or "")
        (newly_rejected if proposed_status == REJECTED else newly_accepted).append(outcome)
    return WhatIfReport(
        compared=len(compared), not_replayed=len(live_orders) - len(compared),
        rejected_live=sum(live_orders[o][8] == REJECTED for o in compared),
        rejected_proposed=sum(proposed_orders[o][8] == REJECTED for o in compared),
        newly_rejected=newly_rejected, newly_accepted=newly_accepted)
