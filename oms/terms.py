"""The terms of an order (side, type, time in force) and its status: the value types every
context shares, defined once (#19).

Each is a `StrEnum`, so a member is also its wire string: it compares equal to it, and
JSON (orjson, `json`), the database (psycopg, Django) and the event schemas take it as
that string. The wire format is exactly what it was before these types: sides and types
lowercase (`buy`, `stop_limit`), times in force and statuses uppercase (`GTC`,
`PARTIALLY_FILLED`); `tests/unit/test_terms.py` holds it.

Convert where text comes in (a serializer, an event payload entering the processor, a row
read back) and keep members inside. Compare with the member, `side == Side.BUY` (as fast
as comparing text, and it still holds for text an untyped caller passed); the processor's
flow, which builds its live orders from members only, and the matching engine compare
with `is`. Convert with the `*_BY_VALUE` maps (a dict look-up) rather than by calling the
enum (`Side(text)` costs ten times more: it matters per order in the processor).

Here in the kernel, not in an app: the orders API, the processor, risk and market data
all speak these terms, and the import contracts let every app (and every pure `domain/`)
import the kernel but not each other's insides. Pure Python: no Django."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final, TypeVar


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"
    STOP = "stop"  # becomes MARKET when triggered
    STOP_LIMIT = "stop_limit"  # becomes LIMIT when triggered


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTD = "GTD"


class OrderStatus(StrEnum):
    """An order's status: the order actor's (`apps/processing/domain/lifecycle.py` has its
    transitions), the read model's column and every `executions` event's `status`."""

    NEW = "NEW"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    SETTLED = "SETTLED"
    CANCELLED = "CANCELLED"


# What each type takes: a limit price (and rests), a stop price, or neither (a market
# order, which never rests).
LIMIT_TYPES: Final = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
STOP_TYPES: Final = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})
MARKET_TYPES: Final = frozenset({OrderType.MARKET, OrderType.STOP})

_Term = TypeVar("_Term", bound=StrEnum)


def wire_values(term: type[_Term]) -> list[str]:
    """The members' wire strings, as plain `str`, in definition order (schemas, choices)."""
    return [member.value for member in term]


def choices(term: type[_Term]) -> list[tuple[str, str]]:
    """Django `choices` of a term, labelled as `TextChoices` labels its members."""
    return [(member.value, member.name.replace("_", " ").title()) for member in term]


def _by_value(term: type[_Term]) -> Mapping[str, _Term]:
    return {member.value: member for member in term}


SIDE_BY_VALUE: Final = _by_value(Side)
ORDER_TYPE_BY_VALUE: Final = _by_value(OrderType)
TIME_IN_FORCE_BY_VALUE: Final = _by_value(TimeInForce)
ORDER_STATUS_BY_VALUE: Final = _by_value(OrderStatus)
