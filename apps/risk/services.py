"""Public face of the risk context: the pre-trade decision the processor asks for (and the
what-if endpoint runs), positions and daily P&L kept current with every fill, and the
operator overrides (limits, kill switches), each audited and emitted on `risk-events`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, localcontext
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from prometheus_client import Histogram

from apps.orders import selectors as orders
from apps.orders import services as order_entry
from apps.orders.services import OrderTerms
from apps.risk import events
from apps.risk.batch import RiskBatch, RiskWrite, StoredRisk, VelocityClaim, stored_risk_read
from apps.risk.domain.checks import Decision, Limits, PreTradeContext
from apps.risk.domain.exposure import AccountExposure, RestingOrder, WorkingOrders
from apps.risk.domain.headroom import Funds, Headroom
from apps.risk.domain.headroom import headroom as headroom_of
from apps.risk.domain.limit_proposal import LimitProposal, LimitProposalError
from apps.risk.domain.margin import MarginTerms, maintenance_requirement
from apps.risk.models import (
    InstrumentMargin,
    KillSwitch,
    MarginAccount,
    Position,
    RiskAudit,
    RiskLimit,
)
from apps.risk.overrides import (
    OverrideRefused,
    OverrideView,
    approve_override,
    register_executor,
    reject_override,
    request_override,
    revert_expired_overrides,
)
from apps.risk.selectors import (
    LIMIT_FIELDS,
    leverage_of,
    margin_rates,
    open_positions,
    reference_marks,
)
from oms.events import new_event
from oms.kafka.shared import event_producer
from oms.kafka.topics import RISK_EVENTS
from oms.money import MONEY_CONTEXT, format_amount
from oms.redis import redis_client
from oms.terms import Side

__all__ = [
    "AccountExposure",
    "Decision",
    "HeadroomView",
    "LimitProposal",
    "LimitProposalError",
    "Limits",
    "NoPrice",
    "OrderContext",
    "OrderContextSource",
    "OverrideRefused",
    "OverrideView",
    "PreTradeContext",
    "RestingOrder",
    "RiskBatch",
    "RiskWrite",
    "StoredRisk",
    "UnknownSymbol",
    "VelocityClaim",
    "WorkingOrders",
    "approve_override",
    "cache_positions",
    "engage_kill_switch",
    "headroom",
    "limit_usage",
    "pre_trade_decision",
    "record_fill",
    "record_override",
    "register_executor",
    "reject_override",
    "release_kill_switch",
    "report_margin_calls",
    "report_venue_breaches",
    "request_override",
    "revert_expired_overrides",
    "risk_batch",
    "set_leverage",
    "set_limits",
    "set_margin_rates",
    "stored_risk_read",
    "use_order_context",
    "validate_order",
]

RISK_CHECK_SECONDS = Histogram(
    "oms_risk_check_seconds", "Time of each pre-trade check", ["check"],
    buckets=(1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3))


def observe_check_timings(decision: Decision) -> None:
    for check, spent in decision.timings_ns.items():
        RISK_CHECK_SECONDS.labels(check).observe(spent / 1e9)


def risk_batch(*, user_ids: Iterable[int], days: Iterable[date],
               claims: list[VelocityClaim], overlay: RiskBatch | None = None,
               instruments: list[orders.InstrumentRules] | None = None,
               stored: StoredRisk | None = None) -> RiskBatch:
    """The risk state of a processor batch's accounts, with the velocity `claims` of its
    submitted orders made; `overlay`: the batch still being written, whose changes the
    read cannot see yet; `instruments` and `stored`: the rules and the stored risk state
    (`stored_risk_read`) the batch read with its other reads (see `apps.risk.batch`)."""
    return RiskBatch(user_ids=user_ids, days=days, claims=claims, overlay=overlay,
                     instruments=instruments, stored=stored)


def pre_trade_decision(context: PreTradeContext, *, order_id: str, now: datetime,
                       count: bool = True, exposure: AccountExposure | None = None,
                       amending: RestingOrder | None = None) -> Decision:
    """One order's decision, as a batch of one (`RiskBatch.decide`): complete the caller's
    context with what risk owns (limits, kill switch, positions, daily P&L, marks,
    velocity, margin), decide, and keep the order counted for velocity when it is
    accepted (`count=False` for a what-if: nothing is counted).

    `exposure` (`apps.processing.selectors.account_exposures`) is the account's working
    orders of every symbol, balances and loans; a caller without it gives the working
    orders of the order's symbol in the context (and the account has no collateral).
    `amending` is the order an amend changes, as it stands. Decided in the money context,
    as the processor decides (28 digits could round a fine notional)."""
    batch = RiskBatch(user_ids=[context.user_id], days=[now.date()],
                      claims=[VelocityClaim(context.user_id, order_id, now,
                                            counts=amending is None)], counting=count,
                      timed=True)
    with localcontext(MONEY_CONTEXT):
        decision = batch.decide(context, order_id=order_id, now=now,
                                exposure=exposure or _context_account(context),
                                amending=amending)
    observe_check_timings(decision)
    batch.flush(now)
    return decision


@dataclass(frozen=True, slots=True)
class OrderContext:
    """What the pre-trade decision of one order needs beside risk's own state: the
    order's context (funds, price, marks) and its account's exposure (working orders of
    every symbol, loans)."""

    context: PreTradeContext
    exposure: AccountExposure


class OrderContextSource(Protocol):
    def __call__(self, *, user_id: int, terms: OrderTerms) -> OrderContext | Decision:
        """The context of an order in the stored state, or the decision when there is
        nothing to decide (an unknown symbol)."""


_order_context: OrderContextSource | None = None


def use_order_context(source: OrderContextSource) -> None:
    """Where `validate_order` finds funds and working orders: the processing context
    provides them (from its `AppConfig.ready`), since risk may not call upstream."""
    global _order_context
    _order_context = source


def validate_order(*, user_id: int, terms: OrderTerms, now: datetime) -> Decision:
    """The pre-trade decision the processor would take for this order in the current
    stored state (funds, working orders of every symbol, loans, marks, limits), reserving
    and counting nothing (`POST /api/risk/validate`)."""
    if _order_context is None:
        raise RuntimeError("no order context source: is apps.processing installed?")
    found = _order_context(user_id=user_id, terms=terms)
    if isinstance(found, Decision):
        return found
    return pre_trade_decision(found.context, order_id="what-if", now=now, count=False,
                              exposure=found.exposure)


def _context_account(context: PreTradeContext) -> AccountExposure:
    """The exposure a caller that passes none gives in its context: the working orders of
    the order's symbol, valued at the order's price."""
    price = context.price if context.price is not None else (context.reference_price
                                                             or Decimal(0))
    return AccountExposure(user_id=context.user_id, working={context.symbol: WorkingOrders(
        orders=context.open_orders, buy_quantity=context.open_buy_quantity,
        sell_quantity=context.open_sell_quantity,
        buy_notional=context.open_buy_quantity * price,
        sell_notional=context.open_sell_quantity * price)})


def limit_usage(*, user_id: int, symbol: str, now: datetime) -> dict[str, Decimal | int | None]:
    """How much of each limit the account uses now, keyed like the limits: positions in
    `symbol` (none without one), working orders, today's loss, the symbol's share of gross
    exposure, and the velocity windows. Per-order limits have no standing usage (None).
    Marks are the market data's reference prices."""
    state = RiskBatch(user_ids=[user_id], days=[now.date()],
                      claims=[VelocityClaim(user_id, "", now)], counting=False)
    positions = {s: p.quantity for s, p in state.positions[user_id].items()}
    marks = reference_marks(symbols=set(positions), fallback={})
    exposures = {s: abs(q) * marks[s] for s, q in positions.items() if s in marks}
    gross = sum(exposures.values(), Decimal(0))
    position = abs(positions.get(symbol, Decimal(0))) if symbol else None
    seen = state.velocity(user_id, "", now)
    return {
        "max_position": position,
        "max_position_notional": exposures.get(symbol, Decimal(0)) if symbol else None,
        "max_order_quantity": None,
        "max_order_notional": None,
        "max_open_orders": len(orders.working_orders_matching(user_id=user_id, symbol=None)),
        "price_band": None,
        "daily_loss": max(-state.daily_pnl(user_id, now.date(), marks), Decimal(0)),
        "concentration": exposures.get(symbol, Decimal(0)) / gross if symbol and gross
        else None,
        "max_orders_per_second": seen.orders_this_second,
        "max_orders_per_minute": seen.orders_this_minute,
        "max_notional_per_minute": seen.notional_this_minute,
    }


POSITION_CACHE_SECONDS = 24 * 3600


def position_key(user_id: int, symbol: str) -> str:
    return f"position:{user_id}:{symbol}"


def cache_positions(pairs: set[tuple[int, str]]) -> None:
    """Copy the stored positions of these (user, symbol) pairs to `position:{userId}:
    {symbol}` (JSON). The processor moved them in the fill's own transaction, before the
    fill reached `executions`, so copying the row (rather than adding the fill again) is
    exact and idempotent under redelivery. Kept a day after the last fill."""
    if not pairs:
        return
    users = {user_id for user_id, _ in pairs}
    rows = {(p.user_id, p.symbol): p for p in Position.objects.filter(user_id__in=users)}
    pipe = redis_client().pipeline(transaction=False)
    for user_id, symbol in sorted(pairs):
        row = rows.get((user_id, symbol))
        if row is None:
            continue
        pipe.set(position_key(user_id, symbol), json.dumps({
            "user_id": user_id, "symbol": symbol, "quantity": format_amount(row.quantity),
            "average_entry_price": format_amount(row.average_entry_price),
            "realized_pnl": format_amount(row.realized_pnl),
            "updated_at": row.updated_at.isoformat()}), ex=POSITION_CACHE_SECONDS)
    pipe.execute()


def record_fill(*, user_id: int, symbol: str, side: Side, quantity: Decimal, price: Decimal,
                fee_in_quote: Decimal, when: datetime) -> None:
    """Move the user's position in `symbol` and today's realized P&L by one fill."""
    batch = RiskBatch(user_ids=[user_id], days=[when.date()], claims=[])
    batch.record_fill(user_id=user_id, symbol=symbol, side=side, quantity=quantity,
                      price=price, fee_in_quote=fee_in_quote, when=when)
    batch.flush(when)


def _audit_and_emit(*, actor_id: int | None, action: str, event_type: str, subject: str,
                    account: str | None, before: Any, after: Any) -> None:
    RiskAudit.objects.create(actor_id=actor_id, action=action, event_type=event_type,
                             subject=subject, before=before, after=after)
    event = new_event(event_type, {"account": account, "action": action, "subject": subject,
                                   "actor": actor_id, "before": before, "after": after})
    transaction.on_commit(lambda: event_producer().publish(RISK_EVENTS, key=account or "venue",
                                                           event=event))


def record_override(*, actor_id: int | None, action: str, subject: str, account: str | None,
                    before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """Audit an operator's override made in another context (a balance adjustment, a
    halt) and emit it as `risk.override`, inside the caller's transaction."""
    _audit_and_emit(actor_id=actor_id, action=action, event_type=events.OVERRIDE,
                    subject=subject, account=account, before=before, after=after)


def _scope(user_id: int | None, symbol: str) -> dict[str, Any]:
    """The lookup of one scope's row: `user_id` None is every account (`IS NULL`), symbol
    "" every symbol."""
    return {"user_id": user_id, "symbol": symbol}


def _limits_dict(row: RiskLimit | None) -> dict[str, str | None] | None:
    if row is None:
        return None
    values = {name: getattr(row, name) for name in LIMIT_FIELDS}
    return {name: None if value is None else
            format_amount(value) if isinstance(value, Decimal) else str(value)
            for name, value in values.items()}


def set_limits(*, actor_id: int | None, user_id: int | None, symbol: str,
               values: dict[str, Any]) -> RiskLimit:
    """Create or change the limits of one scope; audited and emitted as
    `risk.limit_changed`."""
    unknown = set(values) - set(LIMIT_FIELDS)
    if unknown:
        raise ValueError(f"unknown limits: {sorted(unknown)}")
    with transaction.atomic():
        row = RiskLimit.objects.select_for_update().filter(**_scope(user_id, symbol)).first()
        before = _limits_dict(row)
        row = row or RiskLimit(user_id=user_id, symbol=symbol)
        for name, value in values.items():
            setattr(row, name, value)
        row.save()
        row.refresh_from_db()
        _audit_and_emit(actor_id=actor_id, action="set_limits", event_type=events.LIMIT_CHANGED,
                        subject=f"limits {user_id or '*'} {symbol or '*'}",
                        account=None if user_id is None else str(user_id),
                        before=before, after=_limits_dict(row))
    return row


def install_limit_proposal(*, proposal: LimitProposal) -> None:
    """Lay the proposed limits over this database's (`manage.py replay --risk-config`):
    each scope's named limits replaced, None removing one, the others kept. Only for a
    replay's scratch database: nothing is audited or emitted, since nothing live changes
    (`set_limits` is the operators' way)."""
    users = dict(get_user_model().objects.filter(username__in=proposal.usernames)
                 .values_list("username", "id"))
    with transaction.atomic():
        for scope in proposal.scopes:
            user_id = None if scope.user is None else users[scope.user]
            row = (RiskLimit.objects.filter(**_scope(user_id, scope.symbol)).first()
                   or RiskLimit(user_id=user_id, symbol=scope.symbol))
            for name, value in scope.values.items():
                setattr(row, name, value)
            row.save()


def engage_kill_switch(*, actor_id: int | None, user_id: int | None, symbol: str,
                       reason: str) -> int:
    """Stop trading in scope: new orders are rejected with `kill_switch`, and every working
    order in scope gets a cancel request (reason `kill_switch`). Returns how many."""
    with transaction.atomic():
        switch, _ = KillSwitch.objects.update_or_create(
            **_scope(user_id, symbol), defaults={"engaged": True, "reason": reason})
        _audit_and_emit(actor_id=actor_id, action="engage_kill_switch",
                        event_type=events.KILL_SWITCH, subject=str(switch),
                        account=None if user_id is None else str(user_id),
                        before=None, after={"engaged": True, "reason": reason})
    # Working orders include those accepted at entry but not recorded yet: one in the
    # processor's batch may have passed the decision just before the switch engaged.
    return order_entry.cancel_working_orders(user_id=user_id, symbol=symbol or None,
                                             requested_by=actor_id, reason="kill_switch")


def release_kill_switch(*, actor_id: int | None, user_id: int | None, symbol: str) -> None:
    with transaction.atomic():
        updated = KillSwitch.objects.filter(**_scope(user_id, symbol),
                                            engaged=True).update(engaged=False)
        if updated:
            _audit_and_emit(actor_id=actor_id, action="release_kill_switch",
                            event_type=events.KILL_SWITCH,
                            subject=f"kill switch {user_id or 'all'} {symbol or '*'}",
                            account=None if user_id is None else str(user_id),
                            before={"engaged": True}, after={"engaged": False})


def report_breaches(*, marks: dict[str, Decimal], now: datetime) -> int:
    """After the fact: accounts whose daily loss crossed their limit as prices moved. Each
    breach is audited and emitted as `risk.breach` once per account and day."""
    symbols = list(marks)
    users = set(Position.objects.filter(symbol__in=symbols).exclude(quantity=0)
                .values_list("user_id", flat=True))
    state = RiskBatch(user_ids=users, days=[now.date()], claims=[])
    reported = 0
    for user_id in sorted(users):
        limit = state.limits(user_id, "").daily_loss
        pnl = state.daily_pnl(user_id, now.date(), marks)
        if limit is None or -pnl < limit:
            continue
        key = f"{settings.RISK_COUNTER_PREFIX}breach:daily_loss:{user_id}:{now.date()}"
        if not redis_client().set(key, 1, nx=True, ex=48 * 3600):
            continue
        _report_breach(user_id, "daily_loss", f"daily loss {-pnl} reached the {limit} limit")
        reported += 1
    return reported


def _report_breach(user_id: int, check: str, detail: str) -> None:
    RiskAudit.objects.create(action="breach", event_type=events.RISK_BREACH,
                             subject=f"user {user_id}", after={"check": check, "detail": detail})
    event_producer().publish(RISK_EVENTS, key=str(user_id), event=new_event(
        events.RISK_BREACH, {"account": str(user_id), "check": check, "detail": detail}))


def report_venue_breaches(*, breaches: Iterable[tuple[str, str]]) -> int:
    """Breaches of the venue as a whole (no account), each `(check, detail)`, e.g. a
    reconciliation difference: emitted as `risk.breach` keyed `venue`; return how many."""
    reported = 0
    for check, detail in breaches:
        event_producer().publish(RISK_EVENTS, key="venue", event=new_event(
            events.RISK_BREACH, {"account": None, "check": check, "detail": detail[:1000]}))
        reported += 1
    return reported


def report_margin_calls(*, equities: dict[int, Decimal], marks: dict[str, Decimal]) -> int:
    """Leveraged accounts whose equity fell below their maintenance margin, each flagged
    with `risk.breach` (check `maintenance_margin`) once per episode: the flag is cleared
    when the account is back above, so the next fall is reported again."""
    reported = 0
    for user_id, equity in sorted(equities.items()):
        positions = open_positions(user_id=user_id)
        required = maintenance_requirement(positions, marks, margin_rates(list(positions)))
        key = f"{settings.RISK_COUNTER_PREFIX}breach:maintenance_margin:{user_id}"
        if equity >= required:
            redis_client().delete(key)
            continue
        if redis_client().set(key, 1, nx=True, ex=24 * 3600):
            _report_breach(user_id, "maintenance_margin", f"equity {equity} is below the "
                           f"maintenance margin {required}")
            reported += 1
    return reported


def set_leverage(*, actor_id: int | None, user_id: int, leverage: Decimal) -> None:
    """An account's leverage (1 = spot); audited and emitted as `risk.limit_changed`."""
    if leverage < 1:
        raise ValueError("leverage is at least 1")
    with transaction.atomic():
        before = leverage_of(user_id=user_id)
        MarginAccount.objects.update_or_create(user_id=user_id,
                                               defaults={"leverage": leverage})
        _audit_and_emit(actor_id=actor_id, action="set_leverage",
                        event_type=events.LIMIT_CHANGED, subject=f"leverage {user_id}",
                        account=str(user_id), before={"leverage": format_amount(before)},
                        after={"leverage": format_amount(leverage)})


def set_margin_rates(*, actor_id: int | None, symbol: str, initial: Decimal,
                     maintenance: Decimal) -> None:
    """An instrument's initial and maintenance margin; audited and emitted."""
    if not 0 < maintenance <= initial <= 1:
        raise ValueError("margin rates must satisfy 0 < maintenance <= initial <= 1")
    with transaction.atomic():
        rate = margin_rates([symbol])[symbol]
        InstrumentMargin.objects.update_or_create(
            symbol=symbol, defaults={"initial_margin": initial,
                                     "maintenance_margin": maintenance})
        _audit_and_emit(actor_id=actor_id, action="set_margin_rates",
                        event_type=events.LIMIT_CHANGED, subject=f"margin {symbol}",
                        account=None,
                        before={"initial": format_amount(rate.initial),
                                "maintenance": format_amount(rate.maintenance)},
                        after={"initial": format_amount(initial),
                               "maintenance": format_amount(maintenance)})


# ------------------------------------------------------------------------- headroom

HEADROOM_ORDER = "headroom"


class UnknownSymbol(LookupError):
    """No instrument has this symbol."""


class NoPrice(ValueError):
    """Headroom was asked without a price where the symbol has no reference price."""


@dataclass(frozen=True, slots=True)
class HeadroomView:
    """How much more an account may buy and sell in `symbol` now at `price` (the asked
    price, else the reference price), per rule, with the price band's bounds."""

    user_id: int
    symbol: str
    base_asset: str
    quote_asset: str
    price: Decimal
    reference_price: Decimal | None
    price_band: tuple[Decimal, Decimal] | None
    headroom: Headroom


def headroom(*, user_id: int, symbol: str, price: Decimal | None, now: datetime,
             exposure: AccountExposure, available: Mapping[str, Decimal],
             last_trades: Mapping[str, Decimal],
             buy_reservation: Callable[[Decimal, Decimal], Decimal]) -> HeadroomView:
    """Per rule of the pre-trade decision, how much more the account may buy and sell now.

    Read from the state the processor's decision reads (`RiskBatch`: limits, kill
    switches, positions, today's P&L, velocity windows, reference prices and margin
    rates; nothing counted) and completed into the context `RiskBatch.decide` builds; the
    caller (processing, which owns funds) gives the account's `exposure`, its `available`
    balances by asset, the venue's `last_trades` and `buy_reservation(quantity, price)`,
    what a buy must reserve."""
    rules = orders.instrument_rules(symbol=symbol)
    if rules is None:
        raise UnknownSymbol(f"{symbol} is not a known instrument")
    state = RiskBatch(user_ids=[user_id], days=[now.date()], counting=False,
                      claims=[VelocityClaim(user_id, HEADROOM_ORDER, now, counts=False)])
    marks = state.marks(last_trades)
    reference = marks.get(symbol)
    asked = price if price is not None else reference
    if asked is None or asked <= 0:
        raise NoPrice(f"{symbol} has no reference price yet; ask at a price")
    exposures = state.exposures(user_id, marks)
    limits = state.limits(user_id, symbol)
    working = exposure.working_in(symbol)
    context = PreTradeContext(
        user_id=user_id, symbol=symbol, side=Side.BUY, quantity=Decimal(0), price=asked,
        is_limit=True, trading=rules.trading, required_asset=rules.quote_asset,
        required_amount=Decimal(0), available_amount=Decimal(0), reference_price=reference,
        kill_switch=state.kill_switch(user_id, symbol), limits=limits,
        position=state.position(user_id, symbol).quantity, open_buy_quantity=working.buy_quantity,
        open_sell_quantity=working.sell_quantity, open_orders=exposure.open_orders,
        marks=marks, daily_pnl=state.daily_pnl(user_id, now.date(), marks),
        exposures=exposures, account=exposure,
        velocity=state.velocity(user_id, HEADROOM_ORDER, now,
                                with_notional=limits.max_notional_per_minute is not None))
    leverage = leverage_of(user_id=user_id)
    margin = None
    if leverage > 1:
        margin = MarginTerms(
            leverage=leverage, equity=exposure.equity(state.collateral_prices(marks)),
            initial_margins={s: state.margin_rate(s).initial
                             for s in {symbol, *exposure.working, *exposures}})
    room = headroom_of(
        context, lot=rules.lot_size, margin=margin,
        buy=Funds(available.get(rules.quote_asset, Decimal(0)),
                  lambda quantity: buy_reservation(quantity, asked)),
        sell=Funds(available.get(rules.base_asset, Decimal(0)), lambda quantity: quantity))
    band = None
    if limits.price_band is not None and reference is not None:
        band = (reference - reference * limits.price_band,
                reference + reference * limits.price_band)
    return HeadroomView(user_id=user_id, symbol=symbol, base_asset=rules.base_asset,
                        quote_asset=rules.quote_asset, price=asked, reference_price=reference,
                        price_band=band, headroom=room)
