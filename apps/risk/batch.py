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

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.db import connection

from apps.marketdata import selectors as marketdata
from apps.orders.selectors import InstrumentRules, all_instrument_rules
from apps.risk.domain.checks import (
    NO_VELOCITY,
    Decision,
    Limits,
    PreTradeContext,
    Velocity,
    decide,
)
from apps.risk.domain.exposure import AccountExposure, RestingOrder, for_amend
from apps.risk.domain.margin import MarginRate, MarginTerms
from apps.risk.domain.notionals import LIMBS, MinuteNotionals, from_limbs, to_limbs
from apps.risk.domain.positions import PositionChange, apply_fill
from apps.risk.models import (
    InstrumentMargin,
    KillSwitch,
    MarginAccount,
    RiskLimit,
)
from apps.risk.selectors import asset_prices, resolve_limits
from oms.db import Read, Rows
from oms.redis import GuardedPipeline, execute_with_scripts, lua_script
from oms.terms import Side

ZERO = Decimal(0)
FLAT = PositionChange(ZERO, ZERO, ZERO)
NO_EXPOSURES: Mapping[str, Decimal] = MappingProxyType({})
VELOCITY_KEEP_SECONDS = 120

# KEYS: the distinct windows of the batch. ARGV: the windows' lifetime; the entries' order
# ids, separated by spaces; one flag per entry, '1' to count it ('0': an amend or a
# what-if, which reads the windows without counting); per entry the indexes in KEYS of its
# per-second and per-minute window, separated by spaces. Answers, per entry and window,
# the orders in it other than this one, in entry order and as one string of numbers: the
# n-th new order of an account in a batch sees the n - 1 before it, and an amended order
# is the same order, never counted again. (Arguments go as a few strings rather than one
# per entry: packing thousands of arguments was a measurable part of a batch.)
_WINDOWS = """
local ttl = ARGV[1]
local orders, windows, sizes = {}, {}, {}
for order in string.gmatch(ARGV[2], '%S+') do orders[#orders + 1] = order end
for index in string.gmatch(ARGV[4], '%d+') do windows[#windows + 1] = KEYS[tonumber(index)] end
-- Each window's size is asked once and kept here as the script adds to it; each window
-- that counted an order gets its lifetime once, at the end.
local size, added = {}, {}
for n = 1, #orders do
  local order = orders[n]
  local counts = string.sub(ARGV[3], n, n) == '1'
  for j = 2 * n - 1, 2 * n do
    local window = windows[j]
    if size[window] == nil then size[window] = redis.call('SCARD', window) end
    local own
    if counts then
      size[window] = size[window] + redis.call('SADD', window, order)
      added[window] = true
      own = 1
    else
      own = redis.call('SISMEMBER', window, order)
    end
    sizes[#sizes + 1] = size[window] - own
  end
end
for window in pairs(added) do redis.call('EXPIRE', window, ttl) end
return table.concat(sizes, ' ')
"""

# KEYS: minutes' notional hashes (per order its notional's limbs, and the total's limbs
# in the fields `#0` to `#6`: see `domain.notionals`). ARGV: their lifetime, then per key
# its orders as `order=limbs` pairs separated by spaces (one string per key, as above);
# `order=0` takes an order's notional back (refused when its batch was applied again).
# An order recorded again replaces its notional in the total.
_NOTIONALS = """
for i = 1, #KEYS do
  local key, orders, limbs = KEYS[i], {}, {}
  for order, value in string.gmatch(ARGV[i + 1], '(%S+)=(%S+)') do
    orders[#orders + 1] = order
    limbs[#limbs + 1] = value
  end
  -- What each order holds now (read once), then the entries in turn: an order entered
  -- twice takes back its first entry. Each limb is under 10^9 and a batch's entries are
  -- far fewer than 10^6, so the sums stay integers a double holds exactly (below 2^53).
  local held, delta = {}, {}
  local function add(value, sign)
    local j = 0
    for limb in string.gmatch(value, '[^,]+') do
      delta[j] = (delta[j] or 0) + sign * tonumber(limb)
      j = j + 1
    end
  end
  for start = 1, #orders, 1000 do
    local chunk = {unpack(orders, start, math.min(start + 999, #orders))}
    local values = redis.call('HMGET', key, unpack(chunk))
    for n = 1, #chunk do held[chunk[n]] = values[n] or '0' end
  end
  local final, order_list = {}, {}
  for n = 1, #orders do
    local order = orders[n]
    if held[order] ~= '0' then add(held[order], -1) end
    if limbs[n] ~= '0' then add(limbs[n], 1) end
    held[order] = limbs[n]
    if final[order] == nil then order_list[#order_list + 1] = order end
    final[order] = limbs[n]
  end
  local kept, gone = {}, {}
  for _, order in ipairs(order_list) do
    if final[order] == '0' then gone[#gone + 1] = order
    else kept[#kept + 1] = order; kept[#kept + 1] = final[order] end
  end
  for start = 1, #kept, 1000 do
    redis.call('HSET', key, unpack(kept, start, math.min(start + 999, #kept)))
  end
  for start = 1, #gone, 1000 do
    redis.call('HDEL', key, unpack(gone, start, math.min(start + 999, #gone)))
  end
  local j = 0
  while delta[j] ~= nil do
    if delta[j] ~= 0 then redis.call('HINCRBY', key, '#' .. j, string.format('%d', delta[j])) end
    j = j + 1
  end
  redis.call('EXPIRE', key, ARGV[1])
end
return #KEYS
"""
_TOTAL_FIELDS = tuple(f"#{j}" for j in range(LIMBS))


@dataclass(frozen=True, slots=True)
class VelocityClaim:
    """An order in its account's velocity windows at `now`: a new one is counted; an
    amended one (`counts=False`) is the same order and only reads them."""

    user_id: int
    order_id: str
    now: datetime
    counts: bool = True


@lru_cache(maxsize=4096)
def _velocity_keys(prefix: str, user_id: int, second: int) -> tuple[str, str, str]:
    """Redis keys of the account's orders in this second and minute, and of the minute's
    notionals (asked several times per order: remembered for the accounts of recent
    seconds)."""
    base = f"{prefix}velocity:{user_id}"
    minute = second // 60
    return f"{base}:s:{second}", f"{base}:m:{minute}", f"{base}:notional:{minute}"


@dataclass(frozen=True, slots=True)
class RiskConfiguration:
    """Limits, engaged kill switches, leverage and margin rates, as one version of them
    (`ConfigVersion`) holds them; None: no version recorded (not kept in memory)."""

    version: int | None
    limits_by_user: dict[int | None, list[RiskLimit]]  # None: the global scopes
    switches: list[tuple[int | None, str]]  # engaged: (user or None, symbol or "")
    leverage: dict[int, Decimal]
    rates: dict[str, MarginRate]

    def limit_rows(self, users: Iterable[int]) -> list[RiskLimit]:
        """The limit rows that may apply to `users`: the global ones and their own."""
        rows = list(self.limits_by_user.get(None, ()))
        for user_id in users:
            rows += self.limits_by_user.get(user_id, ())
        return rows


_configuration: RiskConfiguration | None = None


def risk_configuration() -> RiskConfiguration:
    """The risk configuration as the database holds it now: the one in memory while its
    version has not changed (one look-up), else read again (four). Every change of it
    writes the version in its own transaction (triggers, migration 0006), so a batch
    that reads the version in its snapshot sees the change from its very batch on, as a
    batch that read the tables would; a kill switch engaged meanwhile is not missed."""
    return configuration_at(Read.one(_VERSION_SQL, [], _version_of).run())


_VERSION_SQL = "SELECT version FROM risk_configversion WHERE id = 1"


def _version_of(rows: Rows) -> int | None:
    return None if not rows else int(rows[0][0])


@dataclass(frozen=True, slots=True)
class StoredRisk:
    """What a batch's risk state starts from: the configuration's version, the accounts'
    positions and their realized P&L of the batch's days, as its snapshot shows them."""

    version: int | None
    positions: defaultdict[int, dict[str, PositionChange]]
    realized: dict[tuple[int, date], Decimal]


def stored_risk_read(*, user_ids: Iterable[int], days: Iterable[date]) -> Read[StoredRisk]:
    """The stored risk state of these accounts and days, in three statements that a
    processor batch sends with its other reads."""
    users = sorted(set(user_ids))
    return Read((
        (_VERSION_SQL, []),
        ("SELECT user_id, symbol, quantity, average_entry_price, realized_pnl "
         "FROM risk_position WHERE user_id = ANY(%s)", [users]),
        ("SELECT user_id, day, realized FROM risk_dailypnl "
         "WHERE user_id = ANY(%s) AND day = ANY(%s)", [users, sorted(set(days))]),
    ), _stored_risk)


def _stored_risk(versions: Rows, positions: Rows, realized: Rows) -> StoredRisk:
    held: defaultdict[int, dict[str, PositionChange]] = defaultdict(dict)
    for user_id, symbol, quantity, average_entry_price, realized_pnl in positions:
        held[user_id][symbol] = PositionChange(quantity, average_entry_price, realized_pnl)
    return StoredRisk(version=_version_of(versions), positions=held,
                      realized={(user_id, day): amount for user_id, day, amount in realized})


def configuration_at(version: int | None) -> RiskConfiguration:
    """The configuration of `version` (read in the caller's snapshot): the one in memory,
    else read again and kept."""
    global _configuration
    cached = _configuration
    if cached is not None and version is not None and cached.version == version:
        return cached
    limits: dict[int | None, list[RiskLimit]] = defaultdict(list)
    for limit in RiskLimit.objects.all():
        limits[limit.user_id].append(limit)
    loaded = RiskConfiguration(
        version=version, limits_by_user=dict(limits),
        switches=list(KillSwitch.objects.filter(engaged=True)
                      .values_list("user_id", "symbol")),
        leverage=dict(MarginAccount.objects.values_list("user_id", "leverage")),
        rates={row.symbol: MarginRate(row.initial_margin, row.maintenance_margin)
               for row in InstrumentMargin.objects.all()})
    _configuration = loaded if version is not None else None
    return loaded


class RiskBatch:
    """Risk state of a batch's accounts; `decide`, `record_fill`, then `flush`."""

    def __init__(self, *, user_ids: Iterable[int], days: Iterable[date],
                 claims: list[VelocityClaim], counting: bool = True,
                 overlay: RiskBatch | None = None,
                 instruments: list[InstrumentRules] | None = None, timed: bool = False,
                 stored: StoredRisk | None = None) -> None:
        """Read the state of `user_ids` for the `days` of the batch's events, the feeds'
        reference prices, and put each of `claims` in its velocity windows
        (`counting=False`, for a what-if: only read them, count and record nothing).
        `overlay` is the batch still being written when this one reads (a pipelined
        processor): its positions and P&L changes are added, as the read cannot see
        them yet. `instruments`: the rules of every instrument, when the caller has read
        them already. `timed`: each decision times its checks (one order at a time; a
        processor batch does not spend two clock reads per check and order). `stored`:
        what `stored_risk_read` gave, when the caller has read it with its other reads."""
        users = sorted(set(user_ids))
        self._users = set(users)
        self._counting = counting
        self._timed = timed
        self._prefix = settings.RISK_COUNTER_PREFIX
        self._instruments = all_instrument_rules() if instruments is None else instruments
        if stored is None:
            stored = stored_risk_read(user_ids=users, days=days).run()
        configuration = configuration_at(stored.version)
        self._limit_rows = configuration.limit_rows(users)
        self._resolved: dict[tuple[int, str], Limits] = {}
        self._switches = configuration.switches
        self.positions: dict[int, dict[str, PositionChange]] = stored.positions
        self._moved: set[tuple[int, str]] = set()
        self._realized_today: dict[tuple[int, date], Decimal] = stored.realized
        self._realized_change: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
        if overlay is not None:
            self._add_unwritten(overlay, set(users))
        self._leverage = configuration.leverage
        default = MarginRate(initial=Decimal(settings.RISK_INITIAL_MARGIN),
                             maintenance=Decimal(settings.RISK_MAINTENANCE_MARGIN))
        self._default_rate = default
        self._rates = configuration.rates
        self._notionals: dict[str, MinuteNotionals] = defaultdict(MinuteNotionals)  # by key
        # The venue's marks and the feeds' merged (`_marks_of`), for the batch's marks.
        self._merged: tuple[Mapping[str, Decimal], dict[str, Decimal]] | None = None
        self._reference, self._velocity = self._from_redis(
            claims, symbols={rules.symbol for rules in self._instruments})
        self._refused: list[VelocityClaim] = []
        self._accepted_notionals: list[tuple[str, str, Decimal]] = []  # (key, order, notional)

    def _add_unwritten(self, earlier: RiskBatch, users: set[int]) -> None:
        """What `earlier` (not yet visible to this batch's read) moved: positions are
        absolute (the later value wins), realized P&L an increment."""
        for user_id, symbol in earlier._moved:
            if user_id in users:
                self.positions[user_id][symbol] = earlier.positions[user_id][symbol]
        for (user_id, day), change in earlier._realized_change.items():
            if user_id in users and change:
                self._realized_today[(user_id, day)] = (
                    self._realized_today.get((user_id, day), ZERO) + change)

    # ----------------------------------------------------------------------- velocity

    def _keys(self, user_id: int, now: datetime) -> tuple[str, str, str]:
        """The account's velocity keys at `now` (`_velocity_keys`; the prefix is read once
        per batch: settings are slow to ask)."""
        return _velocity_keys(self._prefix, user_id, int(now.timestamp()))

    def _from_redis(self, claims: list[VelocityClaim], *, symbols: set[str]
                    ) -> tuple[dict[str, Decimal], dict[str, tuple[int, int]]]:
        """In one round trip: the feeds' reference prices of `symbols`, and each claim put
        in its windows with the counts before it (a script, in order; nothing is counted
        when not counting); the minute's notionals are read once per account and minute,
        when counting only for accounts with a notional limit: their totals, and what is
        already recorded of the batch's own orders, however many the minute holds.
        Returns the prices, and per order id its (second, minute) counts."""
        price_keys, prices_of = marketdata.reference_prices_read(symbols=symbols)
        windows = [self._keys(claim.user_id, claim.now) for claim in claims]
        distinct: dict[str, int] = {}  # window key -> its index in KEYS (from 1)
        indexes = [str(distinct.setdefault(key, len(distinct) + 1))
                   for per_second, per_minute, _ in windows for key in (per_second, per_minute)]
        counting = "1" if self._counting else "0"
        limited = {user_id: self._limits_notional(user_id)
                   for user_id in {claim.user_id for claim in claims}}
        read: dict[str, list[str]] = {}  # a minute's notional key -> the batch's orders
        for claim, (_, _, notional_key) in zip(claims, windows, strict=True):
            if not self._counting or limited[claim.user_id]:
                own = read.setdefault(notional_key, [])
                if claim.order_id:
                    own.append(claim.order_id)
        script = lua_script(_WINDOWS)

        def build(pipe: GuardedPipeline) -> None:
            if price_keys:
                pipe.mget(price_keys)
            if claims:
                pipe.evalsha(script.sha, len(distinct), *distinct,
                             # A read without an order (`limit_usage`) has an empty id,
                             # which the split would lose: it goes as "-", never an order's.
                             VELOCITY_KEEP_SECONDS,
                             " ".join(claim.order_id or "-" for claim in claims),
                             "".join(counting if claim.counts else "0" for claim in claims),
                             " ".join(indexes))
            for notional_key, own in read.items():
                pipe.hmget(notional_key, [*_TOTAL_FIELDS, *own])

        if not (price_keys or claims):
            return {}, {}
        answers = execute_with_scripts(build, [script])
        prices = prices_of(answers.pop(0)) if price_keys else {}
        if not claims:
            return prices, {}
        answer, *found = answers
        for (key, own), values in zip(read.items(), found, strict=True):
            total, recorded = values[:LIMBS], values[LIMBS:]
            self._notionals[key] = MinuteNotionals(
                by_order={order: from_limbs(map(int, limbs.split(b",")))
                          for order, limbs in zip(own, recorded, strict=True) if limbs},
                total=from_limbs(int(limb or 0) for limb in total))
        sizes = [int(size) for size in answer.split()]
        return prices, {claim.order_id: (sizes[2 * i], sizes[2 * i + 1])
                        for i, claim in enumerate(claims)}

    def _limits_notional(self, user_id: int) -> bool:
        """Whether any scope of the account limits its notional per minute."""
        return any(row.max_notional_per_minute is not None for row in self._limit_rows
                   if row.user_id in (None, user_id))

    # ------------------------------------------------------------------------ reading

    def limits(self, user_id: int, symbol: str) -> Limits:
        """The limits in force for the account in `symbol` (resolved once per batch)."""
        key = (user_id, symbol)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolved[key] = resolve_limits(self._limit_rows, user_id=user_id,
                                                         symbol=symbol)
        return found

    def kill_switch(self, user_id: int, symbol: str) -> bool:
        return bool(self._switches) and any(user in (None, user_id) and scope in ("", symbol)
                                            for user, scope in self._switches)

    def position(self, user_id: int, symbol: str) -> PositionChange:
        return self.positions[user_id].get(symbol, FLAT)

    def exposures(self, user_id: int, marks: Mapping[str, Decimal]) -> dict[str, Decimal]:
        """The account's positions by symbol, each at its mark (unsigned); a symbol
        without a mark is left out."""
        return {symbol: abs(p.quantity) * marks[symbol]
                for symbol, p in self.positions[user_id].items() if symbol in marks and p.quantity}

    def daily_pnl(self, user_id: int, day: date, marks: Mapping[str, Decimal]) -> Decimal:
        realized = (self._realized_today.get((user_id, day), ZERO)
                    + self._realized_change.get((user_id, day), ZERO))
        unrealized = sum(((marks[symbol] - p.average_entry_price) * p.quantity
                          for symbol, p in self.positions[user_id].items()
                          if p.quantity and symbol in marks), ZERO)
        return realized + unrealized

    def velocity(self, user_id: int, order_id: str, now: datetime, *,
                 with_notional: bool = True) -> Velocity:
        """The account's windows before the claimed order `order_id` (other orders only),
        with the notionals the minute holds besides this order's (`with_notional`: only
        when a notional limit reads them, as summing grows with the minute's orders)."""
        seconds, minutes = self._velocity.get(order_id, (0, 0))
        notional = ZERO
        if with_notional:
            minute = self._notionals.get(self._keys(user_id, now)[2])
            notional = ZERO if minute is None else minute.besides(order_id)
        return Velocity(orders_this_second=seconds, orders_this_minute=minutes,
                        notional_this_minute=notional)

    def marks(self, last_trades: Mapping[str, Decimal]) -> dict[str, Decimal]:
        """Reference prices by symbol: the feeds', the venue's `last_trades` only where a
        feed has none (the venue's own last trade can be moved by two accounts trading
        with each other)."""
        return {**last_trades, **self._reference}

    def _marks_of(self, context: PreTradeContext) -> Mapping[str, Decimal]:
        """`marks` of the context's venue prices, with its own symbol at its reference
        price. The batch's orders share one venue map (`context.marks`): merged once, and
        copied only for an order whose book traded since (a venue of hundreds of
        instruments would otherwise copy hundreds of prices per order)."""
        venue, price = context.marks, context.reference_price
        if self._merged is None or self._merged[0] is not venue:
            self._merged = (venue, self.marks(venue))
        merged = self._merged[1]
        if price is None or context.symbol in self._reference \
                or merged.get(context.symbol) is price:
            return merged
        return {**merged, context.symbol: price}

    def collateral_prices(self, marks: Mapping[str, Decimal]) -> dict[str, Decimal]:
        return asset_prices(marks, self._instruments)

    def margin_rate(self, symbol: str) -> MarginRate:
        return self._rates.get(symbol, self._default_rate)

    # ----------------------------------------------------------------------- deciding

    def decide(self, context: PreTradeContext, *, order_id: str, now: datetime,
               exposure: AccountExposure, amending: RestingOrder | None = None) -> Decision:
        """The pre-trade decision on what the batch holds (no database, no Redis).

        `exposure` is the account's working orders of every symbol, balances and loans:
        buying power counts every symbol, and equity is valued at the collateral prices.
        `amending` is the order an amend changes, as it stands: the context holds its new
        terms, and what the order holds now is released before they are decided (see
        `domain.exposure.for_amend`); for velocity it is the same order."""
        user_id, symbol = context.user_id, context.symbol
        account = exposure
        if amending is not None:
            context, account = for_amend(context, account, amending)
        marks = self._marks_of(context)
        working = account.working_in(symbol)
        limits = self.limits(user_id, symbol)
        # What only some limits read is worked out only for them (a tenth of a decision
        # each): the exposures (concentration, and the margin of an order beyond the
        # available balance), today's P&L (daily loss) and the velocity windows.
        exposures = self.exposures(user_id, marks) \
            if limits.concentration is not None or context.shortfall else NO_EXPOSURES
        daily_pnl = ZERO if limits.daily_loss is None else self.daily_pnl(
            user_id, now.date(), marks)
        velocity = self.velocity(
            user_id, order_id, now, with_notional=limits.max_notional_per_minute is not None,
        ) if limits.limit_velocity else NO_VELOCITY
        # Built field by field: `dataclasses.replace` cost more than the checks (py-spy).
        c = context
        full = PreTradeContext(
            user_id=c.user_id, symbol=c.symbol, side=c.side, quantity=c.quantity,
            price=c.price, is_limit=c.is_limit, trading=c.trading,
            required_asset=c.required_asset, required_amount=c.required_amount,
            available_amount=c.available_amount, filled_quantity=c.filled_quantity,
            reference_price=marks.get(symbol), marks=marks,
            limits=limits, kill_switch=self.kill_switch(user_id, symbol),
            position=self.position(user_id, symbol).quantity, open_orders=account.open_orders,
            open_buy_quantity=working.buy_quantity, open_sell_quantity=working.sell_quantity,
            daily_pnl=daily_pnl, exposures=exposures, velocity=velocity, account=account,
            margin=self._margin_terms(context, account, exposures, marks))
        decision = decide(full, clock_ns=time.perf_counter_ns if self._timed else None)
        if not self._counting:
            return decision
        if decision.accepted and full.notional is not None:
            notional_key = self._keys(user_id, now)[2]
            self._notionals[notional_key].record(order_id, full.notional)
            self._accepted_notionals.append((notional_key, order_id, full.notional))
        elif not decision.accepted and amending is None:
            self._refused.append(VelocityClaim(user_id=user_id, order_id=order_id, now=now))
        return decision

    def _margin_terms(self, context: PreTradeContext, account: AccountExposure,
                      exposures: Mapping[str, Decimal], marks: Mapping[str, Decimal]
                      ) -> MarginTerms | None:
        """The buying-power terms of a leveraged account whose order needs more than it
        has; None (fully funded) otherwise."""
        if not context.shortfall:
            return None
        leverage = self._leverage.get(context.user_id, Decimal(1))
        if leverage <= 1:
            return None
        symbols = {context.symbol, *account.working, *exposures}
        return MarginTerms(leverage=leverage,
                           equity=account.equity(self.collateral_prices(marks)),
                           initial_margins={s: self.margin_rate(s).initial for s in symbols})

    # ------------------------------------------------------------------------ moving

    def record_fill(self, *, user_id: int, symbol: str, side: Side, quantity: Decimal,
                    price: Decimal, fee_in_quote: Decimal, when: datetime) -> None:
        """Move the account's position. An account the batch did not read is a fault of
        the caller (its ledger refuses the trade first): its position would be written
        from nothing, and positions are absolute."""
        if user_id not in self._users:
            raise LookupError(f"the batch did not read the positions of user {user_id}")
        before = self.position(user_id, symbol)
        after = apply_fill(before, side=side, quantity=quantity, price=price,
                           fee_in_quote=fee_in_quote)
        self.positions[user_id][symbol] = after
        self._moved.add((user_id, symbol))
        self._realized_change[(user_id, when.date())] += after.realized_pnl - before.realized_pnl

    # ----------------------------------------------------------------------- writing

    def flush(self, now: datetime) -> None:
        """Write moved positions and P&L, and the velocity windows' changes."""
        self.flush_counters()
        self.seal(now).write()

    def seal(self, now: datetime) -> RiskWrite:
        """Moved positions and P&L as rows (the next batch may move them further while
        these are written)."""
        return RiskWrite(
            positions=[(u, s, p.quantity, p.average_entry_price, p.realized_pnl, now)
                       for u, s in sorted(self._moved)
                       for p in (self.positions[u][s],)],
            pnl=[(u, day, change) for (u, day), change
                 in sorted(self._realized_change.items()) if change])

    def flush_counters(self) -> None:
        """In one Redis round trip, give back the velocity slots of the orders that were
        not accepted and record the notionals of accepted ones (what a notional limit and
        the usage read). Done as soon as the batch is decided, so that the next batch's
        claims see it."""
        if not (self._refused or self._accepted_notionals):
            return
        per_key: dict[str, list[str]] = defaultdict(list)
        released: list[tuple[str, str]] = []  # (window, order)
        for claim in self._refused:
            per_second, per_minute, notional_key = self._keys(claim.user_id, claim.now)
            released += ((per_second, claim.order_id), (per_minute, claim.order_id))
            per_key[notional_key].append(f"{claim.order_id}=0")
        for notional_key, order_id, notional in self._accepted_notionals:
            per_key[notional_key].append(f"{order_id}={to_limbs(notional)}")
        script = lua_script(_NOTIONALS)

        def build(pipe: GuardedPipeline) -> None:
            for window, order_id in released:
                pipe.srem(window, order_id)
            if per_key:
                pipe.evalsha(script.sha, len(per_key), *per_key, VELOCITY_KEEP_SECONDS,
                             *(" ".join(pairs) for pairs in per_key.values()))

        execute_with_scripts(build, [script])


@dataclass(frozen=True, slots=True)
class RiskWrite:
    """A batch's moved positions (absolute: a symbol's positions have one writer) and
    realized P&L (increments: an account trades on many partitions), a statement each."""

    positions: list[tuple[int, str, Decimal, Decimal, Decimal, datetime]]
    pnl: list[tuple[int, date, Decimal]]

    def write(self) -> None:
        if self.positions:
            _upsert(
                "risk_position", ("user_id", "symbol", "quantity", "average_entry_price",
                                  "realized_pnl", "updated_at"), self.positions,
                conflict="(user_id, symbol)",
                update="quantity = EXCLUDED.quantity, average_entry_price = "
                       "EXCLUDED.average_entry_price, realized_pnl = EXCLUDED.realized_pnl, "
                       "updated_at = EXCLUDED.updated_at")
        if self.pnl:
            _upsert("risk_dailypnl", ("user_id", "day", "realized"), self.pnl,
                    conflict="(user_id, day)",
                    update="realized = risk_dailypnl.realized + EXCLUDED.realized")


def _upsert(table: str, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]], *,
            conflict: str, update: str) -> None:
    values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} "  # noqa: S608 - names are this module's constants
                       f"ON CONFLICT {conflict} DO UPDATE SET {update}",
                       [value for row in rows for value in row])
