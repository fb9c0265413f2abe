"""Public reads of the risk context: positions, the limits in force, kill switches,
leverage and margin rates, and the marks that value positions and collateral (the feeds'
reference prices, the venue's last trade only where a feed has none)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from apps.marketdata import selectors as marketdata
from apps.orders.selectors import InstrumentRules, all_instrument_rules
from apps.risk.domain.checks import Limits
from apps.risk.domain.limit_proposal import (
    LimitProposal,
    LimitProposalError,
    format_of,
    parse_limit_proposal,
)
from apps.risk.domain.margin import MarginRate
from apps.risk.models import (
    InstrumentMargin,
    KillSwitch,
    MarginAccount,
    Position,
    RiskAudit,
    RiskLimit,
)

LIMIT_FIELDS = [f.name for f in fields(Limits)]


@dataclass(frozen=True, slots=True)
class PositionView:
    user_id: int
    symbol: str
    quantity: Decimal
    average_entry_price: Decimal
    realized_pnl: Decimal


@dataclass(frozen=True, slots=True)
class RiskEventView:
    id: int
    created_at: datetime
    action: str
    event_type: str
    subject: str
    actor_id: int | None
    before: object
    after: object


def positions_of(*, user_id: int) -> list[PositionView]:
    return [
        PositionView(user_id=p.user_id, symbol=p.symbol, quantity=p.quantity,
                     average_entry_price=p.average_entry_price, realized_pnl=p.realized_pnl)
        for p in Position.objects.filter(user_id=user_id).order_by("symbol")
    ]


def resolved_limits(*, user_id: int, symbol: str) -> Limits:
    rows = RiskLimit.objects.filter(
        Q(user__isnull=True, symbol="") | Q(user__isnull=True, symbol=symbol)
        | Q(user_id=user_id, symbol="") | Q(user_id=user_id, symbol=symbol))
    return resolve_limits(rows, user_id=user_id, symbol=symbol)


def resolve_limits(rows: Iterable[RiskLimit], *, user_id: int, symbol: str) -> Limits:
    """Each limit from the most specific scope that sets it: account and symbol, account,
    instrument default, global."""
    scoped = [row for row in rows
              if row.user_id in (None, user_id) and row.symbol in ("", symbol)]
    values: dict[str, object] = {}
    for row in sorted(scoped, key=lambda r: (2 if r.user_id is not None else 0)
                      + (1 if r.symbol else 0)):
        for name in LIMIT_FIELDS:
            value = getattr(row, name)
            if value is not None:
                values[name] = value
    return Limits(**values)  # type: ignore[arg-type]


def kill_switch_engaged(*, user_id: int, symbol: str) -> bool:
    return KillSwitch.objects.filter(engaged=True).filter(
        Q(user__isnull=True) | Q(user_id=user_id)).filter(
        Q(symbol="") | Q(symbol=symbol)).exists()


def recent_risk_events(*, limit: int = 100) -> list[RiskEventView]:
    return [RiskEventView(id=a.id, created_at=a.created_at, action=a.action,
                          event_type=a.event_type, subject=a.subject, actor_id=a.actor_id,
                          before=a.before, after=a.after)
            for a in RiskAudit.objects.order_by("-created_at", "-id")[:limit]]


def leverage_of(*, user_id: int) -> Decimal:
    """The account's leverage: 1 (spot, fully funded) unless an operator set more."""
    return MarginAccount.objects.filter(user_id=user_id).values_list(
        "leverage", flat=True).first() or Decimal(1)


def leveraged_accounts() -> dict[int, Decimal]:
    return dict(MarginAccount.objects.filter(leverage__gt=1).values_list("user_id", "leverage"))


def margin_rates(symbols: list[str]) -> dict[str, MarginRate]:
    """Each symbol's margin rates: its own, or the settings' defaults."""
    default = MarginRate(initial=Decimal(settings.RISK_INITIAL_MARGIN),
                         maintenance=Decimal(settings.RISK_MAINTENANCE_MARGIN))
    own = {row.symbol: MarginRate(initial=row.initial_margin,
                                  maintenance=row.maintenance_margin)
           for row in InstrumentMargin.objects.filter(symbol__in=symbols)}
    return {symbol: own.get(symbol, default) for symbol in symbols}


def open_positions(*, user_id: int) -> dict[str, Decimal]:
    return dict(Position.objects.filter(user_id=user_id).exclude(quantity=0)
                .values_list("symbol", "quantity"))


def reference_marks(*, symbols: Collection[str],
                    fallback: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """A mark for each of `symbols` that has one: the feed's reference price (one Redis
    round trip), else the venue's last trade from `fallback`. The venue's own last trade
    can be moved by two accounts trading with each other; the feeds' price cannot."""
    marks = {symbol: fallback[symbol] for symbol in symbols if symbol in fallback}
    marks.update(marketdata.reference_prices(symbols=symbols))
    return marks


def asset_prices(marks: Mapping[str, Decimal],
                 instruments: Iterable[InstrumentRules] | None = None) -> dict[str, Decimal]:
    """Each asset's price in the valuation asset (`OMS_VALUATION_ASSET`): 1 for itself,
    the mark of its instrument against it for the others that have one (`instruments`:
    every instrument's rules, when the caller has them already)."""
    valuation = settings.OMS_VALUATION_ASSET
    prices = {valuation: Decimal(1)}
    for rules in all_instrument_rules() if instruments is None else instruments:
        if rules.quote_asset == valuation and rules.symbol in marks:
            prices[rules.base_asset] = marks[rules.symbol]
    return prices


def collateral_prices(*, last_trades: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """`asset_prices` at the marks of every instrument: collateral is valued at the feeds'
    reference prices, at the venue's `last_trades` only where a feed has none."""
    symbols = {rules.symbol for rules in all_instrument_rules()}
    return asset_prices(reference_marks(symbols=symbols, fallback=last_trades))


def limits_of_scope(*, user_id: int | None, symbol: str) -> Limits:
    """The limits one scope sets itself (not resolved against the others)."""
    scope = RiskLimit.objects.filter(symbol=symbol)
    row = (scope.filter(user__isnull=True) if user_id is None
           else scope.filter(user_id=user_id)).first()
    if row is None:
        return Limits()
    return Limits(**{name: getattr(row, name) for name in LIMIT_FIELDS})


def read_limit_proposal(path: Path) -> LimitProposal:
    """The proposed limits in the JSON or TOML file at `path`
    (`apps.risk.domain.limit_proposal`), each username and symbol checked against this
    database; `LimitProposalError` naming every problem otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LimitProposalError([f"{path}: {exc}"]) from None
    proposal = parse_limit_proposal(text, file_format=format_of(path.name))
    known_users = set(get_user_model().objects.filter(username__in=proposal.usernames)
                      .values_list("username", flat=True))
    known_symbols = {rules.symbol for rules in all_instrument_rules()}
    problems = [f"no user {name!r}" for name in sorted(proposal.usernames - known_users)]
    problems += [f"no instrument {symbol!r}"
                 for symbol in sorted(proposal.symbols - known_symbols)]
    if problems:
        raise LimitProposalError(problems)
    return proposal
