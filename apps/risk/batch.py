"""The risk state of one processor batch (D10): everything the pre-trade decision and the
position keeping need for the batch's accounts, read in a fixed number of queries and one
Redis round trip, decided and moved in memory, and written once.

`pre_trade_decision` in `services` asks the database for each order; a batch of hundreds
of orders cannot afford that. Here the limits of every scope, the engaged kill switches,
the accounts' positions and today's realized P&L, their leverage and the instruments'
margin rates are read once per batch; the velocity windows of every submitted order are
claimed in one pipeline (the same sets and keys as the single path, so both count the same
orders), and the claims of orders that were not accepted are taken back in one more.
Positions are written as absolute values (a symbol's positions have one writer: its
partition's processor); daily P&L as increments (an account trades on many partitions)."""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.db import connection
from django.db.models import Q
from redis.commands.core import Script

from apps.risk.domain.checks import Decision, Limits, PreTradeContext, Velocity, decide
from apps.risk.domain.margin import MarginRate, MarginTerms
from apps.risk.domain.positions import PositionChange, apply_fill
from apps.risk.models import (
    DailyPnl,
    InstrumentMargin,
    KillSwitch,
    MarginAccount,
    Position,
    RiskLimit,
)
from apps.risk.selectors import resolve_limits
from oms.redis import redis_client

ZERO = Decimal(0)
FLAT = PositionChange(ZERO, ZERO, ZERO)
VELOCITY_KEEP_SECONDS = 120

# KEYS: each order's per-second and per-minute window; ARGV: the windows' lifetime, then
# each order's id. Adds each order to its windows and answers their sizes after it, in
# order, so the n-th order of an account in a batch sees the n - 1 before it.
_COUNT_IN_WINDOWS = """
local ttl = ARGV[1]
local sizes = {}
for i = 1, #KEYS, 2 do
  local order = ARGV[(i + 1) / 2 + 1]
  for j = i, i + 1 do
    redis.call('SADD', KEYS[j], order)
    redis.call('EXPIRE', KEYS[j], ttl)
    sizes[#sizes + 1] = redis.call('SCARD', KEYS[j])
  end
end
return sizes
"""
_READ_WINDOWS = """
local sizes = {}
for i = 1, #KEYS do sizes[i] = redis.call('SCARD', KEYS[i]) end
return sizes
"""


@cache
def _script(source: str) -> Script:
    return redis_client().register_script(source)


@dataclass(frozen=True, slots=True)
class VelocityClaim:
    """An order that counts for its account's velocity windows at `now`."""

    user_id: int
    order_id: str
    now: datetime


def velocity_keys(user_id: int, now: datetime) -> tuple[str, str, str]:
    """Redis keys of the account's orders in this second and minute, and of the minute's
    notionals."""
    prefix = f"{settings.RISK_COUNTER_PREFIX}velocity:{user_id}"
    second = int(now.timestamp())
    minute = second // 60
    return f"{prefix}:s:{second}", f"{prefix}:m:{minute}", f"{prefix}:n:{minute}"


class RiskBatch:
    """Risk state of a batch's accounts; `decide`, `record_fill`, then `flush`."""

    def __init__(self, *, user_ids: Iterable[int], days: Iterable[date],
                 claims: list[VelocityClaim], counting: bool = True) -> None:
        """Read the state of `user_ids` for the `days` of the batch's events, and put each
        of `claims` in its velocity windows (`counting=False`, for a what-if: only read
        the windows, count nothing)."""
        users = sorted(set(user_ids))
        self._counting = counting
        self._limit_rows = list(RiskLimit.objects.filter(Q(user__isnull=True)
                                                         | Q(user_id__in=users)))
        self._switches = list(KillSwitch.objects.filter(engaged=True).filter(
            Q(user__isnull=True) | Q(user_id__in=users)).values_list("user_id", "symbol"))
        self.positions: dict[tuple[int, str], PositionChange] = {
            (p.user_id, p.symbol): PositionChange(p.quantity, p.average_entry_price,
                                                  p.realized_pnl)
            for p in Position.objects.filter(user_id__in=users)}
        self._moved: set[tuple[int, str]] = set()
        self._realized_today: dict[tuple[int, date], Decimal] = {
            (row.user_id, row.day): row.realized
            for row in DailyPnl.objects.filter(user_id__in=users, day__in=set(days))}
        self._realized_change: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
        self._leverage = dict(MarginAccount.objects.filter(user_id__in=users)
                              .values_list("user_id", "leverage"))
        default = MarginRate(initial=Decimal(settings.RISK_INITIAL_MARGIN),
                             maintenance=Decimal(settings.RISK_MAINTENANCE_MARGIN))
        self._default_rate = default
        self._rates = {row.symbol: MarginRate(row.initial_margin, row.maintenance_margin)
                       for row in InstrumentMargin.objects.all()}
        self._velocity = self._claim(claims)
        self._notional_seen: dict[str, Decimal] = defaultdict(Decimal)  # per notional key
        self._refused: list[VelocityClaim] = []
        self._notionals: list[tuple[str, str, Decimal]] = []  # (key, order id, notional)

    # ----------------------------------------------------------------------- velocity

    def _claim(self, claims: list[VelocityClaim]) -> dict[str, Velocity]:
        """Add every order to its account's windows and read the counts before it, in one
        round trip (a script, in order; only read them when not counting); the minute's
        notionals are read once per account and minute, when counting only for accounts
        with a notional limit (reading grows with the account's orders of the minute,
        counting does not)."""
        if not claims:
            return {}
        pipe = redis_client().pipeline(transaction=False)
        windows = [velocity_keys(claim.user_id, claim.now) for claim in claims]
        counting_keys = [key for per_second, per_minute, _ in windows
                         for key in (per_second, per_minute)]
        if self._counting:
            _script(_COUNT_IN_WINDOWS)(keys=counting_keys,
                              args=[VELOCITY_KEEP_SECONDS, *(c.order_id for c in claims)],
                              client=pipe)
        else:
            _script(_READ_WINDOWS)(keys=counting_keys, client=pipe)
        notional_keys: list[str] = []
        for claim, (_, _, notional_key) in zip(claims, windows, strict=True):
            reads_notional = not self._counting or self._limits_notional(claim.user_id)
            if reads_notional and notional_key not in notional_keys:
                pipe.hgetall(notional_key)
                notional_keys.append(notional_key)
        counts, *found = pipe.execute()
        notionals = {key: sum((Decimal(v.decode()) for v in values.values()), ZERO)
                     for key, values in zip(notional_keys, found, strict=True)}
        own = 1 if self._counting else 0
        return {claim.order_id: Velocity(
            orders_this_second=int(counts[2 * index]) - own,
            orders_this_minute=int(counts[2 * index + 1]) - own,
            notional_this_minute=notionals.get(windows[index][2], ZERO))
            for index, claim in enumerate(claims)}

    def _limits_notional(self, user_id: int) -> bool:
        """Whether any scope of the account limits its notional per minute."""
        return any(row.max_notional_per_minute is not None for row in self._limit_rows
                   if row.user_id in (None, user_id))

    # ------------------------------------------------------------------------ reading

    def limits(self, user_id: int, symbol: str) -> Limits:
        return resolve_limits(self._limit_rows, user_id=user_id, symbol=symbol)

    def kill_switch(self, user_id: int, symbol: str) -> bool:
        return any(user in (None, user_id) and scope in ("", symbol)
                   for user, scope in self._switches)

    def position(self, user_id: int, symbol: str) -> PositionChange:
        return self.positions.get((user_id, symbol), FLAT)

    def daily_pnl(self, user_id: int, day: date, marks: dict[str, Decimal]) -> Decimal:
        realized = (self._realized_today.get((user_id, day), ZERO)
                    + self._realized_change.get((user_id, day), ZERO))
        unrealized = sum(((marks[symbol] - p.average_entry_price) * p.quantity
                          for (user, symbol), p in self.positions.items()
                          if user == user_id and p.quantity and symbol in marks), ZERO)
        return realized + unrealized

    def velocity(self, order_id: str) -> Velocity:
        """The windows as they were before the claimed order `order_id`."""
        return self._velocity.get(order_id, Velocity())

    def margin_rate(self, symbol: str) -> MarginRate:
        return self._rates.get(symbol, self._default_rate)

    # ----------------------------------------------------------------------- deciding

    def decide(self, context: PreTradeContext, *, order_id: str, now: datetime,
               equity: Callable[[], Decimal]) -> Decision:
        """The pre-trade decision on what the batch holds (no database, no Redis)."""
        user_id, symbol = context.user_id, context.symbol
        marks = dict(context.marks)
        held = {s: p.quantity for (u, s), p in self.positions.items() if u == user_id}
        limits = self.limits(user_id, symbol)
        velocity = self.velocity(order_id)
        notional_key = velocity_keys(user_id, now)[2]
        if limits.max_notional_per_minute is not None:
            velocity = dataclasses.replace(velocity, notional_this_minute=(
                velocity.notional_this_minute + self._notional_seen[notional_key]))
        full = dataclasses.replace(
            context, limits=limits, kill_switch=self.kill_switch(user_id, symbol),
            position=held.get(symbol, ZERO), daily_pnl=self.daily_pnl(user_id, now.date(),
                                                                      marks),
            exposures={s: abs(q) * marks[s] for s, q in held.items() if s in marks and q},
            velocity=velocity, margin=self._margin_terms(context, equity))
        decision = decide(full, clock_ns=time.perf_counter_ns)
        if not self._counting:
            return decision
        if decision.accepted and context.notional is not None:
            self._notional_seen[notional_key] += context.notional
            self._notionals.append((notional_key, order_id, context.notional))
        else:
            self._refused.append(VelocityClaim(user_id=user_id, order_id=order_id, now=now))
        return decision

    def _margin_terms(self, context: PreTradeContext, equity: Callable[[], Decimal]
                      ) -> MarginTerms | None:
        if not context.shortfall:
            return None
        leverage = self._leverage.get(context.user_id, Decimal(1))
        if leverage <= 1:
            return None
        return MarginTerms(leverage=leverage,
                           initial_margin=self.margin_rate(context.symbol).initial,
                           equity=equity())

    # ------------------------------------------------------------------------ moving

    def record_fill(self, *, user_id: int, symbol: str, side: str, quantity: Decimal,
                    price: Decimal, fee_in_quote: Decimal, when: datetime) -> None:
        before = self.position(user_id, symbol)
        after = apply_fill(before, side=side, quantity=quantity, price=price,
                           fee_in_quote=fee_in_quote)
        self.positions[(user_id, symbol)] = after
        self._moved.add((user_id, symbol))
        self._realized_change[(user_id, when.date())] += after.realized_pnl - before.realized_pnl

    # ----------------------------------------------------------------------- writing

    def flush(self, now: datetime) -> None:
        """Write moved positions and P&L (a statement each); in one Redis round trip, give
        back the velocity slots of the orders that were not accepted and record the
        notionals of accepted ones (what a notional limit and the usage read)."""
        moved = sorted(self._moved)
        if moved:
            rows = [self.positions[key] for key in moved]
            _upsert(
                "risk_position", ("user_id", "symbol", "quantity", "average_entry_price",
                                  "realized_pnl", "updated_at"),
                [(u, s, p.quantity, p.average_entry_price, p.realized_pnl, now)
                 for (u, s), p in zip(moved, rows, strict=True)],
                conflict="(user_id, symbol)",
                update="quantity = EXCLUDED.quantity, average_entry_price = "
                       "EXCLUDED.average_entry_price, realized_pnl = EXCLUDED.realized_pnl, "
                       "updated_at = EXCLUDED.updated_at")
        pnl = sorted((key, change) for key, change in self._realized_change.items() if change)
        if pnl:
            _upsert("risk_dailypnl", ("user_id", "day", "realized"),
                    [(u, day, change) for (u, day), change in pnl],
                    conflict="(user_id, day)",
                    update="realized = risk_dailypnl.realized + EXCLUDED.realized")
        if self._refused or self._notionals:
            pipe = redis_client().pipeline(transaction=False)
            for claim in self._refused:
                per_second, per_minute, notional_key = velocity_keys(claim.user_id, claim.now)
                pipe.srem(per_second, claim.order_id)
                pipe.srem(per_minute, claim.order_id)
                pipe.hdel(notional_key, claim.order_id)
            per_key: dict[str, dict[str, str]] = defaultdict(dict)
            for notional_key, order_id, notional in self._notionals:
                per_key[notional_key][order_id] = str(notional)
            for notional_key, mapping in per_key.items():
                pipe.hset(notional_key, mapping=mapping)  # type: ignore[arg-type]
                pipe.expire(notional_key, VELOCITY_KEEP_SECONDS)
            pipe.execute()


def _upsert(table: str, columns: tuple[str, ...], rows: list[tuple[object, ...]], *,
            conflict: str, update: str) -> None:
    values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} "  # noqa: S608 - names are this module's constants
                       f"ON CONFLICT {conflict} DO UPDATE SET {update}",
                       [value for row in rows for value in row])
